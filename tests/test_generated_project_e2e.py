"""Slow tier: bake, `poetry install`, and run the generated project's own commands.

One project per pipeline other than the default (tabular, whose project
test_golden_path_e2e installs as shipped and checks the same way): the wearables
example, and the skeleton (with answers that exercise quoting, another licence and
no CI). Each runs its own tests and lint, its pipeline and notebooks, and serves
a prediction. One test class per project: `make test` distributes by scope
(`--dist loadscope`), so the two workers can build and check the projects side
by side, each project on one worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from tests.checks import assert_own_checks_pass, bake_for_e2e
from tools.project import install, make, run
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


class GeneratedProject:
    """What every generated project passes. Each subclass names its answers and the
    classes its example model predicts; its project is baked and installed once."""

    answers: ClassVar[dict[str, str]]
    classes: ClassVar[set[str]]

    def test_own_tests_lint_and_poetry_check_pass(self, project: Path) -> None:
        # The tests marked slow (model process, Spark, racing workers) run code no
        # pipeline changes; they run once, in test_golden_path_e2e's `make test`.
        assert_own_checks_pass(project, "test-fast")

    def test_pipeline_notebooks_and_service(self, project: Path) -> None:
        """`make pipeline`, a second repro that does nothing, the notebooks, a prediction."""
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
        assert answer["predictions"][0] in self.classes
        assert answer["model"]["version"] == "1"


@pytest.fixture(scope="class")
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test class's project: baked with its answers and installed (see install)."""
    answers = request.cls.answers
    root = bake_for_e2e(tmp_path_factory.mktemp(answers["pipeline"]), answers)
    install(root)
    return root


class TestWearablesProject(GeneratedProject):
    """The wearables example of the four data stages."""

    answers: ClassVar[dict[str, str]] = {"pipeline": "wearables"}
    classes: ClassVar[set[str]] = {"sitting", "walking", "running"}


class TestSkeletonProject(GeneratedProject):
    """The skeleton, with answers that exercise quoting, another licence and no CI."""

    answers: ClassVar[dict[str, str]] = AWKWARD_ANSWERS
    classes: ClassVar[set[str]] = {"yes", "no"}
