"""Slow tier: bake, `poetry install`, and run the generated project's own commands.

One project per pipeline: the default (tabular), the wearables example, and the
skeleton (with answers that exercise quoting, another licence and no CI). Each
runs its own tests, lint, pipeline, notebooks, and serves a prediction.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks import bake_for_e2e
from tools.project import make, quick_install, run
from tools.servers import serve_and_predict

pytestmark = pytest.mark.e2e

# A project whose answers exercise quoting, another licence, no CI, and the
# pass-through pipeline skeleton instead of the example.
AWKWARD_ANSWERS = {
    "pipeline": "skeleton",
    "project_name": 'Zoë\'s "Sleep" Lab',
    "author_name": "Zoë O'Brien-Šimić",
    "description": "Stages \"sleep\" from O'Neil's wearables \\ naïvely — fast 😀",
    "license": "Proprietary",
    "ci": "none",
}


def installed_project(output: Path, answers: dict[str, str] | None = None) -> Path:
    """Bake with the test machine's package index, then `make install` as shipped (default
    answers) or without compiling every module up front (others: see quick_install)."""
    project = bake_for_e2e(output, answers)
    if answers:
        quick_install(project)
    else:
        make(project, "install")
    return project


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield installed_project(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def awkward_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield installed_project(tmp_path_factory.mktemp("awkward"), AWKWARD_ANSWERS)


@pytest.fixture(scope="module")
def wearables_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield installed_project(tmp_path_factory.mktemp("wearables"), {"pipeline": "wearables"})


# One xdist group per project: each is built on the worker that runs its tests.
PROJECTS = [
    pytest.param(name, marks=pytest.mark.xdist_group(name))
    for name in ("default_project", "wearables_project", "awkward_project")
]
ON_DEFAULT_PROJECT = pytest.mark.xdist_group("default_project")


@pytest.mark.parametrize("project_fixture", PROJECTS)
def test_generated_tests_pass(project_fixture: str, request: pytest.FixtureRequest) -> None:
    project: Path = request.getfixturevalue(project_fixture)

    result = make(project, "test")

    assert " passed" in result.stdout
    assert " failed" not in result.stdout


@pytest.mark.parametrize("project_fixture", PROJECTS)
def test_generated_code_is_ruff_and_mypy_clean(
    project_fixture: str, request: pytest.FixtureRequest
) -> None:
    project: Path = request.getfixturevalue(project_fixture)

    result = make(project, "lint")

    assert "All checks passed!" in result.stdout
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize("project_fixture", PROJECTS)
def test_pyproject_is_valid_for_poetry(
    project_fixture: str, request: pytest.FixtureRequest
) -> None:
    project: Path = request.getfixturevalue(project_fixture)

    result = run(["poetry", "check"], project)

    assert "All set!" in result.stdout


@ON_DEFAULT_PROJECT
def test_lock_file_pins_every_tool(default_project: Path) -> None:
    locked = {
        package["name"]
        for package in tomllib.loads((default_project / "poetry.lock").read_text())["package"]
    }

    assert {"pytest", "ruff", "mypy", "pdoc", "pydantic", "pyyaml"} <= locked


@ON_DEFAULT_PROJECT
def test_docs_cover_every_public_module(default_project: Path) -> None:
    make(default_project, "docs")

    package = "my_ml_project"
    root = default_project / "src" / package
    # Every public module, subpackages (stages/, data/, ...) and their modules included:
    # pdoc writes `a/b.py` and the package `a/b/__init__.py` alike to `a/b.html`.
    modules = sorted(
        (path.parent if path.name == "__init__.py" else path.with_suffix("")).relative_to(root)
        for path in root.rglob("*.py")
        if path.name == "__init__.py" or path.stem[0] != "_"
    )
    api = default_project / "docs" / "api"
    assert (api / f"{package}.html").is_file()
    assert {"stages", "data"} <= {str(module.parts[0]) for module in modules if module.parts}
    for module in modules:
        if module.parts:
            assert (api / package / f"{module}.html").is_file(), module


@ON_DEFAULT_PROJECT
def test_make_help_lists_the_commands(default_project: Path) -> None:
    result = make(default_project, "help")

    for target in ("install", "test", "lint", "format", "docs"):
        assert target in result.stdout


@pytest.mark.parametrize(
    ("project_fixture", "classes"),
    [
        pytest.param(
            "wearables_project",
            {"sitting", "walking", "running"},
            marks=pytest.mark.xdist_group("wearables_project"),
        ),
        pytest.param(
            "awkward_project", {"yes", "no"}, marks=pytest.mark.xdist_group("awkward_project")
        ),
    ],
)
def test_pipeline_notebooks_and_service(
    project_fixture: str, classes: set[str], request: pytest.FixtureRequest
) -> None:
    project: Path = request.getfixturevalue(project_fixture)

    make(project, "pipeline", timeout=1800)

    metrics = json.loads((project / "results" / "metrics.json").read_text())
    assert 0.5 < metrics["f1_macro"] < 0.95  # informative: the classes overlap
    assert (
        "Data and pipelines are up to date."
        in run(["poetry", "run", "dvc", "repro"], project).stdout
    )
    notebooks = run(["poetry", "run", "pytest", "--nbmake", "notebooks/"], project)
    assert " passed" in notebooks.stdout
    answer = serve_and_predict(project)
    assert answer["predictions"][0] in classes
    assert answer["model"]["version"] == "1"
