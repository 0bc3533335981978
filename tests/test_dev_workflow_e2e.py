"""Slow tier: a project made with cruft, updated to a newer template, then its git hooks at work.

One project serves the whole module: `cruft create` from a template repository
with one commit, a second template commit, `cruft update`, then `make install`
(which installs the git hooks). The hooks are then run for real: on every file,
and through `git commit` with a leaked secret and with notebook outputs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.checks import GIT_IDENTITY
from tools.project import (
    TEMPLATE_DIR,
    TOOLS_BIN,
    default_package_index_url,
    install,
    make,
    run,
)

pytestmark = pytest.mark.e2e

CRUFT = str(TOOLS_BIN / "cruft")
TEMPLATE_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", ".*_cache", "__pycache__", "*.egg-info"
)
# The second template revision: a README line and a new test module in the project.
ADDED_README_LINE = "Updated from the template's second revision."
ADDED_TEST = "tests/test_template_revision.py"
ADDED_TEST_SOURCE = 'def test_template_revision_arrived() -> None:\n    assert "revision"\n'
# Any attempt to reach the network through a proxy-aware client fails at once.
NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}
SECRET_FILE = "credentials.yaml"
SECRET_TEXT = "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
EXAMPLE_NOTEBOOK = "notebooks/01-explore-data.ipynb"


@dataclass(frozen=True)
class UpdatedProject:
    """A project created from the template's first revision and updated to its second."""

    path: Path
    first_commit: str
    second_commit: str
    check_before_update: int


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["git", *args], cwd, env=GIT_IDENTITY, check=False)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def make_template_repository(folder: Path) -> Path:
    """This template's working tree as a git repository with one commit."""
    repo = folder / "template"
    shutil.copytree(TEMPLATE_DIR, repo, ignore=TEMPLATE_COPY_IGNORE)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "First revision")
    return repo


def commit_second_revision(repo: Path) -> None:
    """A small template change: one README line and one new test module."""
    project = repo / "{{cookiecutter.project_slug}}"
    with (project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(f"\n{ADDED_README_LINE}\n")
    (project / ADDED_TEST).write_text(ADDED_TEST_SOURCE, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Second revision")


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpdatedProject]:
    folder = tmp_path_factory.mktemp("cruft")
    template = make_template_repository(folder)
    first = head(template)
    context = json.dumps({"package_index_url": default_package_index_url()})
    create = [CRUFT, "create", "--no-input", "--output-dir", str(folder / "out")]
    run([*create, "--extra-context", context, str(template)], folder, env=GIT_IDENTITY)
    project = folder / "out" / "my-ml-project"
    # cruft writes .cruft.json after the post-generation hook's first commit.
    git(project, "add", ".cruft.json")
    git(project, "commit", "--quiet", "-m", "Link the project to its template")

    commit_second_revision(template)
    check_before = run([CRUFT, "check"], project, check=False).returncode
    run([CRUFT, "update", "--skip-apply-ask"], project, env=GIT_IDENTITY)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Update from the template")
    install(project)
    yield UpdatedProject(project, first, head(template), check_before)


def test_cruft_records_the_template_revision_and_update_applies_cleanly(
    updated: UpdatedProject,
) -> None:
    project = updated.path
    cruft_state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))

    assert updated.check_before_update != 0
    assert cruft_state["commit"] == updated.second_commit != updated.first_commit
    assert cruft_state["context"]["cookiecutter"]["project_slug"] == "my-ml-project"
    assert ADDED_README_LINE in (project / "README.md").read_text(encoding="utf-8")
    assert (project / ADDED_TEST).read_text(encoding="utf-8") == ADDED_TEST_SOURCE
    assert not list(project.rglob("*.rej"))
    assert run([CRUFT, "check"], project).returncode == 0


def test_the_test_the_update_brought_runs_and_passes(updated: UpdatedProject) -> None:
    # The rest of the suite is the default project's, which test_golden_path_e2e runs.
    result = run(["poetry", "run", "pytest", "-q", ADDED_TEST], updated.path)

    assert "1 passed" in result.stdout


def test_make_install_installs_the_git_hooks(updated: UpdatedProject) -> None:
    hooks = updated.path / ".git" / "hooks"

    for hook in ("pre-commit", "post-checkout"):
        assert "pre-commit" in (hooks / hook).read_text(encoding="utf-8"), hook


def test_hooks_pass_on_every_file_without_network(updated: UpdatedProject) -> None:
    result = run(
        ["poetry", "run", "pre-commit", "run", "--all-files", "--show-diff-on-failure"],
        updated.path,
        env=NO_NETWORK,
    )

    for hook in ("ruff check", "mypy", "nbstripout", "detect secrets", "check yaml"):
        assert any(
            line.startswith(hook) and line.endswith("Passed") for line in result.stdout.splitlines()
        ), hook


def rejected_commit(project: Path, path: str) -> str:
    """Commit ``path`` through the installed hooks, which must refuse; return their output."""
    before = head(project)
    git(project, "add", path)
    result = git(project, "commit", "-m", f"Add {path}")
    assert result.returncode != 0, result.stdout
    assert head(project) == before
    git(project, "reset", "--quiet", "HEAD", "--", path)
    # git sends a hook's standard output to standard error.
    return result.stdout + result.stderr


def test_a_committed_secret_is_rejected(updated: UpdatedProject) -> None:
    secret = updated.path / SECRET_FILE
    secret.write_text(SECRET_TEXT, encoding="utf-8")
    try:
        output = rejected_commit(updated.path, SECRET_FILE)
    finally:
        secret.unlink()

    assert "Potential secrets about to be committed" in output
    assert f"Location:    {SECRET_FILE}:1" in output


def test_a_notebook_with_outputs_is_rejected_and_stripped(updated: UpdatedProject) -> None:
    notebook = json.loads((updated.path / EXAMPLE_NOTEBOOK).read_text(encoding="utf-8"))
    cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    cell["execution_count"] = 1
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["participant p001\n"]}]
    with_outputs = updated.path / "notebooks" / "99-with-outputs.ipynb"
    with_outputs.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    try:
        output = rejected_commit(updated.path, str(with_outputs.relative_to(updated.path)))
        stripped = json.loads(with_outputs.read_text(encoding="utf-8"))
    finally:
        with_outputs.unlink()

    assert "nbstripout" in output
    assert "files were modified by this hook" in output
    assert all(cell.get("outputs", []) == [] for cell in stripped["cells"])


def test_example_notebook_runs_on_the_pipelines_outputs(updated: UpdatedProject) -> None:
    make(updated.path, "pipeline")

    notebooks = run(["poetry", "run", "pytest", "--nbmake", "notebooks/"], updated.path)
    metrics = run(["poetry", "run", "dvc", "metrics", "diff", "HEAD", "--md"], updated.path)

    assert "1 passed" in notebooks.stdout
    assert "f1_macro" in metrics.stdout
