"""Finish a freshly generated project.

Runs inside the new project folder once every file is rendered. It keeps only
the parts the answers selected, installs the chosen licence, starts a git
repository and prints what to do next. Cookiecutter renders this file before
running it; the single template expression below hands it the answers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

# Rendered by Jinja. tojson escapes ' (never "), so ''' always closes the literal;
# fmt: skip keeps ruff format from switching the quotes.
ANSWERS_JSON = r'''{{ cookiecutter | tojson }}'''  # fmt: skip

LICENSES_DIR = "licenses"
PIPELINES_DIR = ".pipelines"
INITIAL_COMMIT_MESSAGE = "Initial commit from the MLOps project template"

# The package folder in OPTION_PATHS; filled in from the answers.
PACKAGE_DIR = "src/{package_name}"

# The tabular pipeline's own data modules, each with a test module of the same name.
TABULAR_MODULES = ("cleaning",)

# Files that belong to one option value, removed when another value is chosen.
# Paths are relative to the project root; {package_name} is filled in.
OPTION_PATHS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "ci": {"github": (".github",)},
    "pipeline": {
        "tabular": (
            *(f"{PACKAGE_DIR}/data/{name}.py" for name in TABULAR_MODULES),
            *(f"tests/test_{name}.py" for name in TABULAR_MODULES),
            "tests/test_data_stages.py",
        ),
        # Reading a configured source, and the example table: the skeleton's pipeline uses both.
        "tabular|skeleton": (
            f"{PACKAGE_DIR}/data/sources.py",
            "tests/test_sources.py",
            "tests/test_ingest.py",
            "conf/data/churn.yaml",
            "data/sources/churn.csv",
        ),
    },
    "serving": {
        "flask": (
            f"{PACKAGE_DIR}/serving",
            "conf/serve",
            "deploy/monitoring",
            "deploy/k8s",
            ".github/workflows/deliver.yml",
            ".github/deploy.sh",
            "Dockerfile",
            ".dockerignore",
            "tests/serving",
        )
    },
}


def unselected_paths(answers: Mapping[str, object]) -> list[str]:
    """Return the paths that belong to option values the answers did not select.

    A key such as ``"tabular|skeleton"`` keeps its paths for either value.
    """
    return [
        path.format(package_name=answers.get("package_name"))
        for option, by_value in OPTION_PATHS.items()
        for values, paths in by_value.items()
        if answers.get(option) not in values.split("|")
        for path in paths
    ]


def apply_pipeline(root: Path, answers: Mapping[str, object]) -> None:
    """Lay the chosen pipeline's own files (``.pipelines/<pipeline>/``) over the project.

    The tabular pipeline is the project as rendered; the others replace some of
    its stages and add modules, configuration and tests of their own.
    """
    pipelines = root / PIPELINES_DIR
    chosen = pipelines / str(answers.get("pipeline"))
    if chosen.is_dir():
        shutil.copytree(chosen, root, dirs_exist_ok=True)
    shutil.rmtree(pipelines)


def remove_paths(root: Path, paths: list[str]) -> None:
    """Delete files and folders below ``root``; missing ones are skipped."""
    for relative in paths:
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def install_license(root: Path, license_name: str) -> None:
    """Move the chosen licence text to ``LICENSE`` and drop the others."""
    licenses = root / LICENSES_DIR
    (licenses / license_name).replace(root / "LICENSE")
    shutil.rmtree(licenses)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def init_git(root: Path) -> str:
    """Start a git repository on branch ``main``, with a first commit when possible.

    Returns:
        One line for the user saying what happened and, if needed, what to do.
    """
    if shutil.which("git") is None:
        return "git is not installed: run `git init -b main` once it is."
    if _git(root, "init", "--initial-branch=main").returncode != 0:
        return "`git init` failed: run `git init -b main` yourself."
    # `git var` resolves the identity as `git commit` would: config or GIT_* variables.
    has_identity = all(
        _git(root, "var", ident).returncode == 0
        for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )
    if not has_identity:
        return (
            "Git repository created without a commit: set your identity with "
            '`git config --global user.name "Your Name"` and '
            "`git config --global user.email you@example.com`, then "
            f'`git add -A && git commit -m "{INITIAL_COMMIT_MESSAGE}"`.'
        )
    _git(root, "add", "--all")
    commit = _git(root, "commit", "--quiet", "-m", INITIAL_COMMIT_MESSAGE)
    if commit.returncode != 0:
        return f"Git repository created, but the first commit failed: {commit.stderr.strip()}"
    return "Git repository created on branch main with a first commit."


def next_steps(root: Path, git_status: str) -> str:
    """Return the message printed once the project is ready."""
    return "\n".join(
        [
            f"\nCreated {root}",
            git_status,
            "\nNext steps:",
            f"  cd {root.name}",
            "  make install   # Poetry installs the package and its tools into .venv",
            "  make test      # run the test suite",
            "  make help      # every other command",
        ]
    )


def main(root: Path, answers: Mapping[str, object]) -> int:
    """Finish the project in ``root`` according to ``answers``."""
    remove_paths(root, unselected_paths(answers))
    apply_pipeline(root, answers)
    install_license(root, str(answers["license"]))
    print(next_steps(root, init_git(root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path.cwd(), json.loads(ANSWERS_JSON)))
