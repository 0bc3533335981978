"""Bake the template with bad answers: generation must stop before any file is written.

Every case runs real cookiecutter through pytest-cookies' ``cookies`` fixture. The
pre-generation hook rejects hook-validated answers, so cookiecutter raises
FailedHookException, prints the hook's explanation on stderr and deletes the project
folder it had created for the hook. Choice answers outside their options never reach
the hook: cookiecutter itself raises ValueError while reading the answers.

These bakes fail before any template file is rendered, so they stay fast.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import (  # type: ignore[import-untyped,unused-ignore]
    FailedHookException,
    OutputDirExistsException,
)
from cookiecutter.generate import generate_context  # type: ignore[import-untyped,unused-ignore]
from cookiecutter.main import cookiecutter  # type: ignore[import-untyped,unused-ignore]
from cookiecutter.prompt import prompt_for_config  # type: ignore[import-untyped,unused-ignore]

REPO_ROOT = Path(__file__).resolve().parents[1]
HEADER = "Cannot generate the project:"

# (answers, the field the hook must name, a phrase of the rule it must quote)
BAD_ANSWERS: list[tuple[dict[str, str], str, str]] = [
    ({"package_name": "test"}, "package_name", "shadow the package or tool named 'test'"),
    ({"package_name": "json"}, "package_name", "standard-library module 'json'"),
    ({"package_name": "mlflow"}, "package_name", "shadow the package or tool named 'mlflow'"),
    ({"package_name": "class"}, "package_name", "Python keyword"),
    ({"package_name": "1abc"}, "package_name", "valid Python package name"),
    ({"package_name": "my-pkg"}, "package_name", "valid Python package name"),
    ({"project_slug": "My Project"}, "project_slug", "single hyphens"),
    ({"project_slug": "-lead"}, "project_slug", "single hyphens"),
    ({"project_name": "Two\nlines"}, "project_name", "single line"),
    # With a blank name, pass a slug: slugify("   ") is "" (see the empty-slug test).
    ({"project_name": "   ", "project_slug": "blank"}, "project_name", "cannot be empty"),
    ({"description": "d" * 301}, "description", "at most 300 characters"),
    ({"author_name": ""}, "author_name", "cannot be empty"),
    ({"s3_bucket": "ab"}, "s3_bucket", "3 to 63 characters"),
    ({"s3_bucket": "My_Bucket"}, "s3_bucket", "uppercase letters"),
    ({"s3_bucket": "my_bucket"}, "s3_bucket", "underscores"),
    ({"s3_bucket": "192.168.1.1"}, "s3_bucket", "IP address"),
    ({"s3_bucket": "a..b"}, "s3_bucket", "two dots"),
    ({"s3_bucket": "UPPER"}, "s3_bucket", "uppercase letters"),
    ({"s3_bucket": "b" * 64}, "s3_bucket", "3 to 63 characters"),
    ({"s3_bucket": "data--x-s3"}, "s3_bucket", "'--x-s3'"),
    ({"s3_prefix": "/team/project/"}, "s3_prefix", "leading and trailing '/'"),
    ({"aws_region": "europe"}, "aws_region", "AWS region code"),
    ({"aws_region": "US-EAST-1"}, "aws_region", "AWS region code"),
    ({"aws_profile": "my profile"}, "aws_profile", "no spaces"),
    ({"author_email": "nobody"}, "author_email", "name@domain.tld"),
    ({"author_email": "a@b"}, "author_email", "name@domain.tld"),
    ({"s3_endpoint_url": "ftp://x"}, "s3_endpoint_url", "http:// or https://"),
    ({"s3_endpoint_url": "localhost:9000"}, "s3_endpoint_url", "http:// or https://"),
    ({"mlflow_tracking_uri": "file:///tmp/mlruns"}, "mlflow_tracking_uri", "file store"),
    ({"mlflow_tracking_uri": "./mlruns"}, "mlflow_tracking_uri", "file store"),
    ({"mlflow_tracking_uri": "sqlite://"}, "mlflow_tracking_uri", "sqlite:///mlflow.db"),
    ({"package_index_url": "not a url"}, "package_index_url", "whitespace"),
]

# Choice answers cookiecutter rejects itself, before the hook (or anything else) runs.
BAD_CHOICES = [
    ("python_version", "3.9"),
    ("license", "GPL-3.0"),
    ("pipeline", "maybe"),
    ("serving", "fastapi"),
    ("ci", "gitlab"),
]


def case_id(answers: dict[str, str]) -> str:
    """A short, readable test id for a set of answers."""
    return ",".join(f"{key}={value[:20]!r}" for key, value in answers.items())


def output_entries(tmp_path: Path) -> list[Path]:
    """Everything under the ``cookies`` fixture's output folders (``<tmp_path>/cookies/bakeNN``).

    pytest-cookies 0.7.0 creates one ``bakeNN`` folder per bake under the test's
    ``tmpdir`` (the same folder as ``tmp_path``); the folders themselves are skipped.
    """
    root = tmp_path / "cookies"
    return sorted(entry for bake in root.iterdir() for entry in bake.rglob("*"))


@pytest.mark.parametrize(
    ("answers", "field", "rule"), BAD_ANSWERS, ids=[case_id(a) for a, _, _ in BAD_ANSWERS]
)
def test_bad_answer_stops_generation(
    cookies: Any,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    answers: dict[str, str],
    field: str,
    rule: str,
) -> None:
    result = cookies.bake(extra_context=answers, template=str(REPO_ROOT))

    assert result.exit_code != 0
    assert isinstance(result.exception, FailedHookException), repr(result.exception)
    assert result.project_path is None
    err = capfd.readouterr().err
    assert HEADER in err
    problem_lines = [line.strip() for line in err.splitlines() if line.strip().startswith("- ")]
    assert any(line.startswith(f"- {field}: ") and rule in line for line in problem_lines), err
    assert f"cookiecutter --no-input {REPO_ROOT} " in err  # how to re-run, answers kept
    assert [path.name for path in (tmp_path / "cookies").iterdir()] == ["bake00"]
    assert output_entries(tmp_path) == []


def test_all_bad_answers_are_reported_in_one_run(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answers = {
        "package_name": "mlflow",
        "s3_bucket": "My_Bucket",
        "aws_region": "europe",
        "mlflow_tracking_uri": "./mlruns",
    }
    result = cookies.bake(extra_context=answers, template=str(REPO_ROOT))

    assert isinstance(result.exception, FailedHookException)
    err = capfd.readouterr().err
    assert f"{HEADER} 4 answers need fixing." in err
    for field in answers:
        assert f"- {field}: " in err
    assert err.count("- s3_bucket: ") == 2  # uppercase and underscore, reported separately
    assert output_entries(tmp_path) == []


def test_a_bad_slug_also_reports_the_answers_derived_from_it(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """package_name and s3_prefix default to values computed from project_slug."""
    result = cookies.bake(extra_context={"project_slug": "My Project"}, template=str(REPO_ROOT))

    assert isinstance(result.exception, FailedHookException)
    err = capfd.readouterr().err
    assert "- project_slug: 'My Project' is not allowed." in err
    assert "- package_name: 'My Project' is not allowed." in err
    assert "- s3_prefix: 'My Project' is not allowed." in err
    assert "project_slug=my-project" in err
    assert output_entries(tmp_path) == []


def test_slug_with_a_slash_leaves_only_empty_folders(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Cookiecutter creates ``team/churn`` for the hook but deletes only ``churn``.

    The hook still stops generation, so no file is written; the empty ``team``
    folder is cookiecutter 2.7.1's doing (it removes just the project folder).
    """
    result = cookies.bake(extra_context={"project_slug": "team/churn"}, template=str(REPO_ROOT))

    assert isinstance(result.exception, FailedHookException)
    assert "- project_slug: 'team/churn' is not allowed." in capfd.readouterr().err
    leftovers = output_entries(tmp_path)
    assert all(path.is_dir() for path in leftovers)
    assert [path.name for path in leftovers] == ["team"]


def test_blank_project_name_is_explained_by_the_hook(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A name with nothing to slugify falls back to a placeholder slug, so the hook runs."""
    result = cookies.bake(extra_context={"project_name": "   "}, template=str(REPO_ROOT))

    assert isinstance(result.exception, FailedHookException)
    assert "- project_name:" in capfd.readouterr().err
    assert output_entries(tmp_path) == []


def test_explicitly_empty_slug_never_reaches_the_hook(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An empty slug makes the project folder the output folder itself, which exists.

    Cookiecutter 2.7.1 then raises OutputDirExistsException before running any hook,
    so the user sees "directory already exists" rather than the hook's explanation.
    """
    result = cookies.bake(extra_context={"project_slug": ""}, template=str(REPO_ROOT))

    assert isinstance(result.exception, OutputDirExistsException)
    assert HEADER not in capfd.readouterr().err
    assert output_entries(tmp_path) == []


@pytest.mark.parametrize(("field", "value"), BAD_CHOICES)
def test_bad_choice_is_rejected_by_cookiecutter_itself(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: str
) -> None:
    result = cookies.bake(extra_context={field: value}, template=str(REPO_ROOT))

    assert result.exit_code == -1  # pytest-cookies' code for an exception other than SystemExit
    assert isinstance(result.exception, ValueError)
    assert not isinstance(result.exception, FailedHookException)
    message = str(result.exception)
    assert f"{value} provided for choice variable {field}, but the choices are" in message
    assert HEADER not in capfd.readouterr().err  # the hook never ran
    assert list((tmp_path / "cookies").iterdir()) == []  # not even an output folder


def write_user_config(tmp_path: Path) -> Path:
    """A cookiecutter user config keeping replay files and clones inside ``tmp_path``."""
    config = {
        "cookiecutters_dir": str(tmp_path / "cookiecutters"),
        "replay_dir": str(tmp_path / "replay"),
    }
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    return path


def test_replayed_bad_choice_is_caught_by_the_hook(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A replay file skips cookiecutter's choice check, so the hook is the only guard."""
    context = generate_context(context_file=str(REPO_ROOT / "cookiecutter.json"))
    answers = dict(prompt_for_config(context, no_input=True))
    answers["python_version"] = "3.9"
    replay_file = tmp_path / "answers.json"
    replay_file.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    output_dir = tmp_path / "out"
    output_dir.mkdir()

    with pytest.raises(FailedHookException):
        cookiecutter(
            str(REPO_ROOT),
            replay=str(replay_file),
            output_dir=str(output_dir),
            config_file=str(write_user_config(tmp_path)),
        )

    err = capfd.readouterr().err
    assert "- python_version: '3.9' is not allowed." in err
    assert "3.10, 3.11, 3.12, 3.13" in err
    assert list(output_dir.iterdir()) == []


def test_hook_passes_awkward_valid_text_through_real_cookiecutter(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Quotes, backslashes and non-ASCII text survive cookiecutter's rendering of the hook.

    Bakes a one-file copy of the template (same cookiecutter.json, extensions and
    pre-generation hook), so the check does not depend on the rest of the template.
    """
    template = tmp_path / "mini-template"
    (template / "hooks").mkdir(parents=True)
    for name in ("cookiecutter.json", "local_extensions.py", "hooks/pre_gen_project.py"):
        (template / name).write_bytes((REPO_ROOT / name).read_bytes())
    project = template / "{{cookiecutter.project_slug}}"
    project.mkdir()
    (project / "slug.txt").write_text("{{ cookiecutter.project_slug }}\n", encoding="utf-8")
    answers = {
        "project_name": "O'Brien's \"Churn\" Model",
        "description": "It's ''' and \"\"\" and a back\\slash \\",
        "author_name": "Zoë O'Brien-Šimić",
        "mlflow_tracking_uri": "postgresql+psycopg2://u:p@db/mlflow",
        "s3_endpoint_url": "http://127.0.0.1:9000",
        "s3_bucket": "my.data.bucket",
        "s3_prefix": "",
        "aws_region": "us-gov-west-1",
    }

    result = cookies.bake(extra_context=answers, template=str(template))

    assert result.exit_code == 0, capfd.readouterr().err
    assert result.exception is None
    assert (result.project_path / "slug.txt").read_text(
        encoding="utf-8"
    ) == "o-brien-s-churn-model\n"
    assert HEADER not in capfd.readouterr().err
