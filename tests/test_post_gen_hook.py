"""The post-generation hook, called directly on a scratch folder."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.checks import GIT_IDENTITY, load_hook


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return load_hook("post_gen_project")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with one file per option and every licence text."""
    root = tmp_path / "demo-project"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("name: CI\n")
    (root / "licenses").mkdir()
    for name in ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"):
        (root / "licenses" / name).write_text(f"{name} text\n")
    (root / "README.md").write_text("# Demo\n")
    (root / "dvc.yaml").write_text("tabular pipeline\n")
    (root / "src" / "demo" / "stages").mkdir(parents=True)
    (root / "src" / "demo" / "stages" / "align.py").write_text("tabular align\n")
    for pipeline in ("wearables", "skeleton"):
        stages = root / ".pipelines" / pipeline / "src" / "demo" / "stages"
        stages.mkdir(parents=True)
        (stages / "align.py").write_text(f"{pipeline} align\n")
    (root / ".pipelines" / "wearables" / "src" / "demo" / "data").mkdir()
    (root / ".pipelines" / "wearables" / "src" / "demo" / "data" / "simulate.py").touch()
    (root / "src" / "demo" / "data").mkdir(parents=True)
    for module in ("cleaning", "sources", "io"):
        (root / "src" / "demo" / "data" / f"{module}.py").write_text("")
    return root


@pytest.fixture
def no_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide every git config file so git knows no user name or e-mail."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in (*GIT_IDENTITY, "EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_github_files_stay_when_selected(hook: ModuleType) -> None:
    assert ".github" not in hook.unselected_paths({"ci": "github"})


def test_github_files_go_when_not_selected(hook: ModuleType, project: Path) -> None:
    hook.remove_paths(project, hook.unselected_paths({"ci": "none"}))

    assert not (project / ".github").exists()
    assert (project / "README.md").exists()


def test_removing_a_missing_path_is_not_an_error(hook: ModuleType, project: Path) -> None:
    hook.remove_paths(project, ["no/such/file", "README.md"])

    assert not (project / "README.md").exists()


@pytest.mark.parametrize("license_name", ["MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"])
def test_the_chosen_licence_becomes_license(
    hook: ModuleType, project: Path, license_name: str
) -> None:
    hook.install_license(project, license_name)

    assert (project / "LICENSE").read_text() == f"{license_name} text\n"
    assert not (project / "licenses").exists()


@pytest.mark.usefixtures("git_identity")
def test_git_repository_gets_a_first_commit_on_main(hook: ModuleType, project: Path) -> None:
    status = hook.init_git(project)

    assert "first commit" in status
    log = subprocess.run(
        ["git", "log", "--format=%an|%s", "main"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert log.stdout.strip() == f"Test User|{hook.INITIAL_COMMIT_MESSAGE}"


@pytest.mark.usefixtures("no_git_identity")
def test_without_identity_the_user_is_told_how_to_commit(hook: ModuleType, project: Path) -> None:
    status = hook.init_git(project)

    assert "without a commit" in status
    assert "git config --global user.name" in status
    assert (project / ".git").is_dir()


def test_without_git_the_user_is_told_to_init_later(
    hook: ModuleType, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hook.shutil, "which", lambda name: None)

    assert "git is not installed" in hook.init_git(project)
    assert not (project / ".git").exists()


@pytest.mark.usefixtures("git_identity")
def test_main_finishes_the_project_and_prints_next_steps(
    hook: ModuleType, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {"ci": "none", "license": "MIT", "pipeline": "tabular"}
    assert hook.main(project, answers) == 0

    printed = capsys.readouterr().out
    assert f"cd {project.name}" in printed
    assert "make install" in printed
    assert (project / "LICENSE").is_file()
    assert not (project / ".github").exists()


@pytest.mark.usefixtures("no_git_identity")
def test_identity_from_environment_variables_is_enough(
    hook: ModuleType, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in GIT_IDENTITY.items():
        monkeypatch.setenv(variable, value)

    assert "first commit" in hook.init_git(project)


@pytest.mark.parametrize("pipeline", ["wearables", "skeleton"])
def test_a_pipeline_lays_its_own_files_over_the_tabular_ones(
    hook: ModuleType, project: Path, pipeline: str
) -> None:
    answers = {"pipeline": pipeline, "package_name": "demo"}

    hook.remove_paths(project, hook.unselected_paths(answers))
    hook.apply_pipeline(project, answers)

    assert (project / "src/demo/stages/align.py").read_text() == f"{pipeline} align\n"
    assert (project / "src/demo/data/simulate.py").exists() == (pipeline == "wearables")
    assert not (project / "src/demo/data/cleaning.py").exists()
    assert (project / "src/demo/data/sources.py").exists() == (pipeline == "skeleton")
    assert not (project / ".pipelines").exists()


def test_the_tabular_pipeline_is_the_project_as_rendered(hook: ModuleType, project: Path) -> None:
    answers = {"pipeline": "tabular", "package_name": "demo"}

    hook.remove_paths(project, hook.unselected_paths(answers))
    hook.apply_pipeline(project, answers)

    assert (project / "src/demo/stages/align.py").read_text() == "tabular align\n"
    assert (project / "src/demo/data/cleaning.py").exists()
    assert (project / "src/demo/data/sources.py").exists()
    assert not (project / "src/demo/data/simulate.py").exists()
    assert not (project / ".pipelines").exists()
