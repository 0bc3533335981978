"""Fast tier: bakes render cleanly for every option value and for awkward answers."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checks import assert_cleanly_rendered, pairwise, template_choices
from tests.conftest import Bake
from tools.project import TOOLS_BIN

FIRST_LICENSE_LINE = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Proprietary": "All rights reserved.",
}


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_toml(path: Path) -> Any:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_default_bake_has_the_documented_layout(bake: Bake) -> None:
    project = bake()

    assert project.name == "my-ml-project"
    for stage in ("raw", "raw_aligned", "processed", "experiment"):
        assert (project / "data" / stage / "README.md").is_file()
    for folder in ("models", "notebooks", "results", "conf", "docs", "tests"):
        assert (project / folder / "README.md").is_file(), folder
    for name in (
        "metadata.yaml",
        "pyproject.toml",
        "Makefile",
        "README.md",
        "LICENSE",
        ".gitignore",
        ".env.example",
        ".dvc/config",
        ".dvc/.gitignore",
        ".dvcignore",
        "src/my_ml_project/__init__.py",
        "src/my_ml_project/metadata.py",
        "tests/test_metadata.py",
    ):
        assert (project / name).is_file(), name
    assert not (project / "licenses").exists()


def test_default_bake_renders_cleanly(bake: Bake) -> None:
    assert_cleanly_rendered(bake())


@pytest.mark.usefixtures("git_identity")
def test_default_bake_is_a_git_repository_with_one_commit_on_main(bake: Bake) -> None:
    project = bake()

    assert git(project, "branch", "--show-current") == "main"
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "status", "--porcelain") == ""


def test_answers_flow_into_metadata_pyproject_and_dvc(bake: Bake) -> None:
    project = bake(
        {
            "project_name": "Gait Analysis",
            "s3_bucket": "acme-ml-data",
            "s3_prefix": "teams/gait",
            "aws_region": "eu-central-1",
            "aws_profile": "acme-ds",
            "s3_endpoint_url": "http://127.0.0.1:9000",
            "mlflow_tracking_uri": "https://mlflow.acme.example",
            "package_index_url": "https://pypi.acme.example/simple/",
            "python_version": "3.12",
        }
    )

    metadata = read_yaml(project / "metadata.yaml")
    assert metadata["project"] == {
        "name": "Gait Analysis",
        "slug": "gait-analysis",
        "package": "gait_analysis",
        "description": metadata["project"]["description"],
        "license": "MIT",
        "created": metadata["project"]["created"],
    }
    assert metadata["storage"] == {
        "bucket": "acme-ml-data",
        "prefix": "teams/gait",
        "region": "eu-central-1",
        "endpoint_url": "http://127.0.0.1:9000",
    }
    assert metadata["tracking"]["uri"] == "https://mlflow.acme.example"

    dvc_config = (project / ".dvc/config").read_text(encoding="utf-8")
    assert "url = s3://acme-ml-data/teams/gait/dvc" in dvc_config
    assert "region = eu-central-1" in dvc_config
    assert "profile = acme-ds" in dvc_config
    assert "endpointurl = http://127.0.0.1:9000" in dvc_config

    pyproject = read_toml(project / "pyproject.toml")
    assert pyproject["project"]["requires-python"] == ">=3.12,<4.0"
    assert pyproject["tool"]["ruff"]["target-version"] == "py312"
    assert pyproject["tool"]["poetry"]["source"] == [
        {
            "name": "private-index",
            "url": "https://pypi.acme.example/simple/",
            "priority": "primary",
        }
    ]
    assert (project / ".python-version").read_text(encoding="utf-8").strip() == "3.12"


def test_blank_optional_answers_leave_no_empty_settings(bake: Bake) -> None:
    project = bake({"aws_profile": "", "s3_endpoint_url": "", "package_index_url": ""})

    dvc_config = (project / ".dvc/config").read_text(encoding="utf-8")
    assert "profile" not in dvc_config
    assert "endpointurl" not in dvc_config
    assert "source" not in read_toml(project / "pyproject.toml")["tool"]["poetry"]


@pytest.mark.parametrize(
    "answers",
    pairwise(template_choices()),
    ids=lambda answers: "-".join(answers.values()),
)
def test_every_option_value_renders_cleanly(bake: Bake, answers: dict[str, str]) -> None:
    project = bake(answers)

    assert_cleanly_rendered(project)
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert FIRST_LICENSE_LINE[answers["license"]] in license_text
    assert (project / ".github").exists() == (answers["ci"] == "github")
    assert (project / ".python-version").read_text(encoding="utf-8").strip() == answers[
        "python_version"
    ]


AWKWARD_ANSWERS = {
    "project_name": "  Ünïcode Café: the 'Best' Model  ",
    "author_name": "Zoë O'Brien-Šimić",
    "author_email": "zoe.obrien+ml@example.co.uk",
    "description": "Predicts \"churn\" for O'Neil's team \\ 100% — naïve & <fast> 😀: yes",
    "s3_prefix": "",
}


def test_awkward_answers_still_give_valid_files(bake: Bake) -> None:
    project = bake(AWKWARD_ANSWERS)

    assert project.name == "unicode-cafe-the-best-model"
    assert_cleanly_rendered(project)
    pyproject = read_toml(project / "pyproject.toml")["project"]
    assert pyproject["description"] == AWKWARD_ANSWERS["description"]
    assert pyproject["authors"] == [
        {"name": AWKWARD_ANSWERS["author_name"], "email": AWKWARD_ANSWERS["author_email"]}
    ]
    metadata = read_yaml(project / "metadata.yaml")
    assert metadata["project"]["name"] == AWKWARD_ANSWERS["project_name"]
    assert metadata["project"]["package"] == "unicode_cafe_the_best_model"
    assert metadata["owner"]["name"] == AWKWARD_ANSWERS["author_name"]
    assert metadata["storage"]["prefix"] == ""
    assert "url = s3://unicode-cafe-the-best-model-data/dvc" in (project / ".dvc/config").read_text(
        encoding="utf-8"
    )
    assert AWKWARD_ANSWERS["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")


def test_longest_allowed_names_keep_the_code_lint_clean(bake: Bake) -> None:
    longest = "a" * 40  # the limit the pre-generation hook enforces

    project = bake({"project_slug": longest, "package_name": longest})

    assert_cleanly_rendered(project)


def test_the_code_uses_only_what_the_oldest_offered_python_has(bake: Bake) -> None:
    oldest = min(template_choices()["python_version"], key=lambda v: tuple(map(int, v.split("."))))
    project = bake({"python_version": oldest})

    # mypy knows which standard-library names each Python version has; the project's
    # third-party packages are not installed here, so they count as untyped.
    result = subprocess.run(
        [
            str(TOOLS_BIN / "mypy"),
            "--python-version",
            oldest,
            "--ignore-missing-imports",
            "--follow-imports=silent",
            "--no-error-summary",
            "src",
            "tests",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    too_new = [
        line
        for line in result.stdout.splitlines()
        if line.endswith(("[attr-defined]", "[name-defined]", "[syntax]"))
    ]
    assert not too_new, f"not in Python {oldest}:\n" + "\n".join(too_new)
