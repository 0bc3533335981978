"""Slow tier: bake, `poetry install`, and run the generated project's own commands.

One project per pipeline: the default (tabular), the wearables example, and the
skeleton (with answers that exercise quoting, another licence and no CI). Each
runs its own tests and lint; the example and the skeleton also run their
pipeline and notebooks and serve a prediction. One test class per project:
`make test` distributes by scope (`--dist loadscope`), so the two workers build
and check the three projects side by side, each project on one worker.
"""

from __future__ import annotations

import json
import tomllib
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


class GeneratedProject:
    """What every generated project passes; each subclass builds its project once."""

    def test_generated_tests_pass(self, project: Path) -> None:
        result = make(project, "test")

        assert " passed" in result.stdout
        assert " failed" not in result.stdout

    def test_generated_code_is_ruff_and_mypy_clean(self, project: Path) -> None:
        result = make(project, "lint")

        assert "All checks passed!" in result.stdout
        assert "Success: no issues found" in result.stdout

    def test_pyproject_is_valid_for_poetry(self, project: Path) -> None:
        result = run(["poetry", "check"], project)

        assert "All set!" in result.stdout


def pipeline_notebooks_and_service(project: Path, classes: set[str]) -> None:
    """`make pipeline`, a second repro that does nothing, the notebooks, a served prediction."""
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


class TestDefaultProject(GeneratedProject):
    """The default answers, installed as shipped (bytecode compiled up front)."""

    @pytest.fixture(scope="class")
    def project(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return installed_project(tmp_path_factory.mktemp("default"))

    def test_lock_file_pins_every_tool(self, project: Path) -> None:
        locked = {
            package["name"]
            for package in tomllib.loads((project / "poetry.lock").read_text())["package"]
        }

        assert {"pytest", "ruff", "mypy", "pdoc", "pydantic", "pyyaml"} <= locked

    def test_docs_cover_every_public_module(self, project: Path) -> None:
        make(project, "docs")

        package = "my_ml_project"
        root = project / "src" / package
        # Every public module, subpackages (stages/, data/, ...) and their modules included:
        # pdoc writes `a/b.py` and the package `a/b/__init__.py` alike to `a/b.html`.
        modules = sorted(
            (path.parent if path.name == "__init__.py" else path.with_suffix("")).relative_to(root)
            for path in root.rglob("*.py")
            if path.name == "__init__.py" or path.stem[0] != "_"
        )
        api = project / "docs" / "api"
        assert (api / f"{package}.html").is_file()
        assert {"stages", "data"} <= {str(module.parts[0]) for module in modules if module.parts}
        for module in modules:
            if module.parts:
                assert (api / package / f"{module}.html").is_file(), module

    def test_make_help_lists_the_commands(self, project: Path) -> None:
        result = make(project, "help")

        for target in ("install", "test", "lint", "docs", "retrain", "promote", "rollback"):
            assert target in result.stdout


class TestWearablesProject(GeneratedProject):
    """The wearables example of the four data stages."""

    @pytest.fixture(scope="class")
    def project(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return installed_project(tmp_path_factory.mktemp("wearables"), {"pipeline": "wearables"})

    def test_pipeline_notebooks_and_service(self, project: Path) -> None:
        pipeline_notebooks_and_service(project, {"sitting", "walking", "running"})


class TestSkeletonProject(GeneratedProject):
    """The skeleton, with answers that exercise quoting, another licence and no CI."""

    @pytest.fixture(scope="class")
    def project(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return installed_project(tmp_path_factory.mktemp("awkward"), AWKWARD_ANSWERS)

    def test_pipeline_notebooks_and_service(self, project: Path) -> None:
        pipeline_notebooks_and_service(project, {"yes", "no"})
