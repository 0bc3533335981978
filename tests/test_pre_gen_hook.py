"""Unit tests of hooks/pre_gen_project.py, imported as plain (unrendered) Python.

The hook validates every cookiecutter answer before a file is generated. These
tests call its validators directly; tests/test_bad_answers.py bakes the template.
"""

import importlib.util
import json
import keyword
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
from cookiecutter.generate import generate_context  # type: ignore[import-untyped,unused-ignore]
from cookiecutter.prompt import prompt_for_config  # type: ignore[import-untyped,unused-ignore]

REPO_ROOT = Path(__file__).resolve().parents[1]
HOOK_PATH = REPO_ROOT / "hooks" / "pre_gen_project.py"


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    """The hook module, loaded from its file without rendering it."""
    spec = importlib.util.spec_from_file_location("pre_gen_project", HOOK_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def valid_answers() -> dict[str, str]:
    """The answers cookiecutter.json gives when every default is accepted."""
    return {
        "project_name": "My ML Project",
        "project_slug": "my-ml-project",
        "package_name": "my_ml_project",
        "description": (
            "A machine-learning project with versioned data, tracked experiments "
            "and a served model."
        ),
        "author_name": "Your Name",
        "author_email": "you@example.com",
        "python_version": "3.11",
        "license": "MIT",
        "s3_bucket": "my-ml-project-data",
        "s3_prefix": "my-ml-project",
        "aws_region": "us-east-1",
        "aws_profile": "",
        "s3_endpoint_url": "",
        "mlflow_tracking_uri": "sqlite:///mlflow.db",
        "package_index_url": "",
        "pipeline": "tabular",
        "serving": "flask",
        "ci": "github",
    }


def problems_for(hook: ModuleType, field: str, value: str) -> list[Any]:
    """The problems the hook finds when ``field`` of the default answers is ``value``."""
    problems: list[Any] = hook.validate({**valid_answers(), field: value})
    return problems


# --- the defaults and awkward but valid answers -----------------------------------------


def test_defaults_are_valid(hook: ModuleType) -> None:
    assert hook.validate(valid_answers()) == []


def test_valid_answers_are_cookiecutters_defaults(hook: ModuleType) -> None:
    """valid_answers() is what cookiecutter resolves with --no-input, question by question."""
    context = generate_context(context_file=str(REPO_ROOT / "cookiecutter.json"))
    resolved = prompt_for_config(context, no_input=True)
    defaults = {key: value for key, value in resolved.items() if not key.startswith("_")}
    assert defaults == valid_answers()
    assert list(defaults) == list(valid_answers()) == list(hook.VALIDATORS)


def test_every_fallback_example_is_valid(hook: ModuleType) -> None:
    for field, example in hook.EXAMPLES.items():
        assert problems_for(hook, field, example) == [], field


AWKWARD_VALID = [
    ("project_name", "Café Analytics — v2 (beta)"),
    ("project_name", "O'Reilly's \"quoted\" project"),
    ("project_slug", "ab"),
    ("project_slug", "churn-model-2"),
    ("project_slug", "a" * 40),
    ("package_name", "a" * 40),
    ("package_name", "churn"),
    ("package_name", "my_ml_project2"),
    ("description", ""),
    ("description", 'It\'s "quoted", has a back\\slash and \'\'\' and """ inside.'),
    ("description", "Ends with a backslash \\"),
    ("description", "Prédit l'attrition — 予測 🚀"),
    ("description", "d" * 300),
    ("author_name", "Zoë O'Brien-Šimić"),
    ("author_name", "李雷"),
    ("author_email", "first.last+ml@sub.example.co.uk"),
    ("python_version", "3.10"),
    ("python_version", "3.13"),
    ("license", "Apache-2.0"),
    ("license", "Proprietary"),
    ("s3_bucket", "my.data.bucket"),
    ("s3_bucket", "abc"),
    ("s3_bucket", "1bucket"),
    ("s3_bucket", "b" * 63),
    ("s3_prefix", ""),
    ("s3_prefix", "team/project"),
    ("s3_prefix", "Team_A/v1.2/raw-data"),
    ("aws_region", "us-gov-west-1"),
    ("aws_region", "cn-north-1"),
    ("aws_region", "ap-southeast-2"),
    ("aws_region", "eu-central-1"),
    ("aws_profile", "dev@team+ml"),
    ("s3_endpoint_url", "http://127.0.0.1:9000"),
    ("s3_endpoint_url", "https://s3.eu-central-1.wasabisys.com"),
    ("mlflow_tracking_uri", "https://mlflow.example.com"),
    ("mlflow_tracking_uri", "http://localhost:5000"),
    ("mlflow_tracking_uri", "postgresql+psycopg2://u:p@db/mlflow"),
    ("mlflow_tracking_uri", "postgresql://db/mlflow"),
    ("mlflow_tracking_uri", "mysql+pymysql://u@db:3306/mlflow"),
    ("mlflow_tracking_uri", "mssql+pyodbc://u@db/mlflow"),
    ("mlflow_tracking_uri", "sqlite:////var/lib/mlflow/mlflow.db"),
    ("mlflow_tracking_uri", "databricks"),
    ("mlflow_tracking_uri", "databricks://my-profile"),
    ("package_index_url", "https://pypi.example.com/simple/"),
    ("package_index_url", "http://10.0.0.5:8080/simple"),
    ("pipeline", "skeleton"),
    ("serving", "none"),
    ("ci", "none"),
]


@pytest.mark.parametrize(("field", "value"), AWKWARD_VALID)
def test_awkward_but_valid_answers_pass(hook: ModuleType, field: str, value: str) -> None:
    assert problems_for(hook, field, value) == []


# --- invalid answers, one field at a time -----------------------------------------------

SLUG_RULE = "lowercase letters, digits and single hyphens"
PACKAGE_RULE = "valid Python package name"
EMAIL_RULE = "name@domain.tld"
REGION_RULE = "AWS region code"
FILE_STORE_RULE = "file store"

INVALID = [
    ("project_name", "", "cannot be empty"),
    ("project_name", "   ", "cannot be empty"),
    ("project_name", "n" * 101, "at most 100 characters"),
    ("project_name", "Two\nlines", "single line"),
    ("project_name", "Tab\there", "single line"),
    ("project_slug", "My Project", SLUG_RULE),
    ("project_slug", "-lead", SLUG_RULE),
    ("project_slug", "trail-", SLUG_RULE),
    ("project_slug", "double--hyphen", SLUG_RULE),
    ("project_slug", "under_score", SLUG_RULE),
    ("project_slug", "1st-model", SLUG_RULE),
    ("project_slug", "team/churn", SLUG_RULE),
    ("project_slug", "a", "2 to 40 characters"),
    ("project_slug", "a" * 41, "2 to 40 characters"),
    ("package_name", "a" * 41, "2 to 40 characters"),
    ("package_name", "test", "shadow the package or tool named 'test'"),
    ("package_name", "mlflow", "shadow the package or tool named 'mlflow'"),
    ("package_name", "sklearn", "shadow the package or tool named 'sklearn'"),
    ("package_name", "json", "standard-library module 'json'"),
    ("package_name", "os", "standard-library module 'os'"),
    ("package_name", "class", "Python keyword"),
    ("package_name", "match", "soft keyword"),
    ("package_name", "1abc", PACKAGE_RULE),
    ("package_name", "my-pkg", PACKAGE_RULE),
    ("package_name", "MyPkg", PACKAGE_RULE),
    ("package_name", "_private", PACKAGE_RULE),
    ("description", "x" * 301, "at most 300 characters"),
    ("description", "Two\nlines", "single line"),
    ("author_name", "", "cannot be empty"),
    ("author_name", "Name\r\n", "single line"),
    ("author_name", "a" * 101, "at most 100 characters"),
    ("author_email", "nobody", EMAIL_RULE),
    ("author_email", "a@b", EMAIL_RULE),
    ("author_email", "two words@example.com", EMAIL_RULE),
    ("author_email", "a@@example.com", EMAIL_RULE),
    ("author_email", "a" * 250 + "@example.com", "at most 254 characters"),
    ("python_version", "3.9", "3.10, 3.11, 3.12, 3.13"),
    ("python_version", "3.14", "3.10, 3.11, 3.12, 3.13"),
    ("license", "GPL-3.0", "MIT, Apache-2.0, BSD-3-Clause, Proprietary"),
    ("s3_bucket", "ab", "3 to 63 characters"),
    ("s3_bucket", "a" * 64, "3 to 63 characters"),
    ("s3_bucket", "My-Bucket", "uppercase"),
    ("s3_bucket", "my_bucket", "underscores"),
    ("s3_bucket", "my bucket!", "only lowercase letters, digits, dots and hyphens"),
    ("s3_bucket", "-bucket", "Begin and end"),
    ("s3_bucket", "bucket.", "Begin and end"),
    ("s3_bucket", "a..b", "two dots"),
    ("s3_bucket", "192.168.1.1", "IP address"),
    ("s3_bucket", "xn--bucket", "'xn--'"),
    ("s3_bucket", "sthree-bucket", "'sthree-'"),
    ("s3_bucket", "amzn-s3-demo-bucket", "'amzn-s3-demo-'"),
    ("s3_bucket", "bucket-s3alias", "'-s3alias'"),
    ("s3_bucket", "bucket--ol-s3", "'--ol-s3'"),
    ("s3_bucket", "bucket.mrap", "'.mrap'"),
    ("s3_bucket", "bucket--x-s3", "'--x-s3'"),
    ("s3_bucket", "bucket--table-s3", "'--table-s3'"),
    ("s3_prefix", "/data", "leading and trailing '/'"),
    ("s3_prefix", "data/", "leading and trailing '/'"),
    ("s3_prefix", "a//b", "two slashes"),
    ("s3_prefix", "my data", "Use only letters, digits"),
    ("s3_prefix", "a/../b", "'..'"),
    ("s3_prefix", "p" * 201, "at most 200 characters"),
    ("aws_region", "europe", REGION_RULE),
    ("aws_region", "US-EAST-1", REGION_RULE),
    ("aws_region", "us-east", REGION_RULE),
    ("aws_region", "useast1", REGION_RULE),
    ("aws_profile", "my profile", "no spaces"),
    ("aws_profile", "p" * 65, "1 to 64 characters"),
    ("s3_endpoint_url", "ftp://minio", "http:// or https://"),
    ("s3_endpoint_url", "localhost:9000", "http:// or https://"),
    ("s3_endpoint_url", "http://", "host name"),
    ("s3_endpoint_url", "http://minio:9000?x=1", "query string"),
    ("s3_endpoint_url", "http://minio:9000#frag", "query string"),
    ("s3_endpoint_url", "http://minio :9000", "whitespace"),
    ("s3_endpoint_url", "http://minio:99999", "port"),
    ("mlflow_tracking_uri", "file:///tmp/mlruns", FILE_STORE_RULE),
    ("mlflow_tracking_uri", "./mlruns", FILE_STORE_RULE),
    ("mlflow_tracking_uri", "mlruns", FILE_STORE_RULE),
    ("mlflow_tracking_uri", "/abs/mlruns", FILE_STORE_RULE),
    ("mlflow_tracking_uri", "C:\\mlruns", FILE_STORE_RULE),
    ("mlflow_tracking_uri", "", "cannot be empty"),
    ("mlflow_tracking_uri", "sqlite://", "sqlite:///mlflow.db"),
    ("mlflow_tracking_uri", "sqlite:mlflow.db", "sqlite:///mlflow.db"),
    ("mlflow_tracking_uri", "https://", "host name"),
    ("mlflow_tracking_uri", "http://tracking server", "whitespace"),
    ("mlflow_tracking_uri", "postgresql://", "after '://'"),
    ("mlflow_tracking_uri", "mssql://db/mlflow", "driver"),
    ("mlflow_tracking_uri", "mongodb://db/mlflow", "Use one of"),
    ("mlflow_tracking_uri", "postgres://db/mlflow", "Use one of"),
    ("package_index_url", "not a url", "whitespace"),
    ("package_index_url", "pypi.example.com/simple", "http:// or https://"),
    ("package_index_url", "https://", "host name"),
    ("pipeline", "maybe", "tabular, wearables, skeleton"),
    ("serving", "fastapi", "flask, none"),
    ("ci", "gitlab", "github, none"),
]


@pytest.mark.parametrize(("field", "value", "rule"), INVALID)
def test_invalid_answer_is_reported(hook: ModuleType, field: str, value: str, rule: str) -> None:
    problems = problems_for(hook, field, value)
    assert problems, f"{field}={value!r} was accepted"
    assert {problem.field for problem in problems} == {field}
    assert any(rule in problem.rule for problem in problems), [p.rule for p in problems]
    for problem in problems:
        message = str(problem)
        assert message.startswith(f"{field}: ")
        assert " is not allowed. " in message
        assert f"Example: {problem.example}" in message
        if len(value) <= 60:
            assert repr(value) in message


@pytest.mark.parametrize(("field", "value", "rule"), INVALID)
def test_suggested_example_is_itself_valid(
    hook: ModuleType, field: str, value: str, rule: str
) -> None:
    for problem in problems_for(hook, field, value):
        assert problem.example != value
        assert problems_for(hook, field, problem.example) == [], problem.example


def test_problem_message_format(hook: ModuleType) -> None:
    problem = hook.Problem(
        "project_slug",
        "My Proj",
        "Use lowercase letters, digits and single hyphens, starting with a letter.",
        "churn-model",
    )
    assert str(problem) == (
        "project_slug: 'My Proj' is not allowed. Use lowercase letters, digits and "
        "single hyphens, starting with a letter. Example: churn-model"
    )


def test_suggestions_repair_the_value(hook: ModuleType) -> None:
    assert problems_for(hook, "project_slug", "My Project")[0].example == "my-project"
    assert problems_for(hook, "package_name", "my-pkg")[0].example == "my_pkg"
    assert problems_for(hook, "package_name", "test")[0].example == "test_project"
    assert problems_for(hook, "s3_bucket", "My_Bucket")[0].example == "my-bucket"
    assert problems_for(hook, "aws_region", "US-EAST-1")[0].example == "us-east-1"
    endpoint = problems_for(hook, "s3_endpoint_url", "localhost:9000")[0].example
    assert endpoint == "http://localhost:9000"
    tracking = problems_for(hook, "mlflow_tracking_uri", "./mlruns")[0].example
    assert tracking == "sqlite:///mlflow.db"


def test_long_values_are_shortened_in_messages(hook: ModuleType) -> None:
    (problem,) = problems_for(hook, "description", "x" * 301)
    assert "x" * 100 not in str(problem)
    assert "(301 characters)" in str(problem)


def test_file_store_message_explains_the_deprecation(hook: ModuleType) -> None:
    (problem,) = problems_for(hook, "mlflow_tracking_uri", "file:///tmp/mlruns")
    assert "deprecated" in problem.rule
    assert "sqlite:///mlflow.db" in problem.rule


@pytest.mark.parametrize(
    # The names the issue asks for, and the libraries the generated project itself imports.
    "name",
    ["test", "tests", "src", "mlflow", "dvc", "hydra", "numpy", "pandas", "sklearn", "flask"],
)
def test_reserved_package_names_are_rejected(hook: ModuleType, name: str) -> None:
    (problem,) = problems_for(hook, "package_name", name)
    assert "shadow" in problem.rule
    assert f"'{name}'" in problem.rule


def test_every_reserved_name_is_rejected(hook: ModuleType) -> None:
    accepted = [
        name
        for name in sorted(hook.RESERVED_PACKAGE_NAMES)
        if not problems_for(hook, "package_name", name)
    ]
    assert accepted == []


def test_every_stdlib_module_and_keyword_is_rejected(hook: ModuleType) -> None:
    names = {n for n in sys.stdlib_module_names if n.isidentifier() and n.islower()}
    names |= set(keyword.kwlist) | {"match", "case", "type"}
    accepted = [n for n in sorted(names) if not problems_for(hook, "package_name", n)]
    assert accepted == []


# --- several problems at once -----------------------------------------------------------


def test_all_problems_are_reported_together(hook: ModuleType) -> None:
    answers = {
        **valid_answers(),
        "project_slug": "My Project",
        "package_name": "json",
        "s3_bucket": "Bad_Bucket..",
        "aws_region": "europe",
        "mlflow_tracking_uri": "./mlruns",
    }
    problems = hook.validate(answers)
    fields = [problem.field for problem in problems]
    # In question order, every bad answer, and each broken bucket rule on its own.
    assert list(dict.fromkeys(fields)) == [
        "project_slug",
        "package_name",
        "s3_bucket",
        "aws_region",
        "mlflow_tracking_uri",
    ]
    bucket_rules = [p.rule for p in problems if p.field == "s3_bucket"]
    assert len(bucket_rules) == 4  # uppercase, underscore, ends with '.', '..'


def test_missing_and_non_text_answers_are_reported(hook: ModuleType) -> None:
    answers: dict[str, object] = {**valid_answers(), "serving": True}
    del answers["aws_region"]
    problems = hook.validate(answers)
    assert [(p.field, p.rule) for p in problems] == [
        ("aws_region", "The answer is missing."),
        ("serving", "Give the answer as text."),
    ]


# --- main() -----------------------------------------------------------------------------


def test_main_accepts_valid_answers(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(hook, "ANSWERS_JSON", json.dumps(valid_answers()))
    assert hook.main() == 0
    assert capsys.readouterr() == ("", "")


def test_main_reports_every_problem_and_how_to_rerun(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {
        **valid_answers(),
        "project_slug": "My Proj",
        "s3_bucket": "ab",
        "_template": "gh:acme/mlops-template",
        "_repo_dir": "/home/me/.cookiecutters/mlops-template",
    }
    monkeypatch.setattr(hook, "ANSWERS_JSON", json.dumps(answers))
    assert hook.main() == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "Cannot generate the project: 2 answers need fixing."
    assert any(
        line.strip().startswith("- project_slug: 'My Proj' is not allowed.") for line in lines
    )
    assert any(line.strip().startswith("- s3_bucket: 'ab' is not allowed.") for line in lines)
    (rerun,) = [line for line in lines if "cookiecutter --no-input" in line]
    assert rerun.strip().startswith("cookiecutter --no-input gh:acme/mlops-template ")
    for field, value in valid_answers().items():  # every other answer is kept
        if field not in ("project_slug", "s3_bucket"):
            assert shlex.quote(f"{field}={value}") in rerun, field
    assert "project_slug=my-proj" in rerun
    assert "s3_bucket=" in rerun and "s3_bucket=ab " not in f"{rerun} "
    assert "--replay-file ~/.cookiecutter_replay/mlops-template.json" in err


def test_main_header_is_singular_for_one_answer(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {**valid_answers(), "aws_region": "europe"}
    monkeypatch.setattr(hook, "ANSWERS_JSON", json.dumps(answers))
    assert hook.main() == 1
    assert capsys.readouterr().err.startswith("Cannot generate the project: 1 answer needs fixing.")


def test_main_refuses_to_run_unrendered(
    hook: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hook.main() == 2
    assert "through cookiecutter" in capsys.readouterr().err


# --- the file as cookiecutter renders it ------------------------------------------------


def test_only_one_jinja_expression_in_the_hook() -> None:
    source = HOOK_PATH.read_text(encoding="utf-8")
    assert source.count("{{") == 1
    assert source.count("}}") == 1
    assert "{%" not in source
    assert "{#" not in source
    assert "ANSWERS_JSON = r'''{{ cookiecutter | tojson }}'''" in source


def render_hook(answers: dict[str, str]) -> str:
    """The hook's source as cookiecutter's Jinja renders it for ``answers``."""
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    source = HOOK_PATH.read_text(encoding="utf-8")
    return environment.from_string(source).render(cookiecutter=answers)


NASTY_TEXT = {
    **valid_answers(),
    "project_name": "O'Brien's ''' \"\"\" project",
    "description": "Back\\slash at the end \\",
    "author_name": "Zoë O'Brien-Šimić </script> & 予測",
}


def test_rendered_hook_holds_the_answers_exactly(tmp_path: Path) -> None:
    rendered = render_hook(NASTY_TEXT)
    namespace: dict[str, Any] = {"__name__": "rendered_pre_gen_project"}
    exec(compile(rendered, "pre_gen_project.py", "exec"), namespace)
    assert json.loads(namespace["ANSWERS_JSON"]) == NASTY_TEXT


@pytest.mark.parametrize(
    ("answers", "exit_code"),
    [(NASTY_TEXT, 0), ({**NASTY_TEXT, "package_name": "json"}, 1)],
    ids=["valid", "invalid"],
)
def test_rendered_hook_runs_as_a_script(
    tmp_path: Path, answers: dict[str, str], exit_code: int
) -> None:
    script = tmp_path / "pre_gen_project.py"
    script.write_text(render_hook(answers), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == ""
    if exit_code:
        assert "package_name: 'json' is not allowed." in result.stderr
    else:
        assert result.stderr == ""
