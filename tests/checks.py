"""Helpers shared by the template's tests: loading hooks, walking and checking a baked project."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tools.project import TEMPLATE_DIR, bake, default_package_index_url, make, run

RUFF = Path(sys.executable).parent / "ruff"

# A git identity for commands that commit (post-generation hook, `dvc exp run`),
# so the tests pass on machines where git has no user configured.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
}

# Template syntax that must never survive rendering. GitHub Actions' own `${{ ... }}`
# expressions are legitimate in workflow files, so a `$` right before `{{` is allowed.
# Not leftovers: GitHub Actions' ${{ ... }} and Go templates' {{ $value }} (Prometheus alerts).
LEFTOVER_TEMPLATE_SYNTAX = re.compile(r"(?<!\$)\{\{(?! \$)|\{%|\{#|cookiecutter\.")


def load_hook(name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` as a module without rendering it."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_DIR / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def template_choices() -> dict[str, list[str]]:
    """The choice options of cookiecutter.json and their values."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    return {
        key: value
        for key, value in context.items()
        if isinstance(value, list) and not key.startswith("_")
    }


def pairwise(options: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Return rows that together hold every pair of values of every two options.

    A greedy all-pairs cover: far fewer rows than the full product, yet each
    value of each option is met with each value of every other option.
    """
    names = list(options)
    pairs = {
        (a, value_a, b, value_b)
        for a, b in itertools.combinations(names, 2)
        for value_a in options[a]
        for value_b in options[b]
    }

    def pair(x: str, value_x: str, y: str, value_y: str) -> tuple[str, str, str, str]:
        if names.index(x) < names.index(y):
            return (x, value_x, y, value_y)
        return (y, value_y, x, value_x)

    rows: list[dict[str, str]] = []
    while pairs:
        first, value_first, second, value_second = min(pairs)
        row = {first: value_first, second: value_second}
        for name in names:
            if name not in row:
                row[name] = max(
                    options[name],
                    key=lambda value, name=name: sum(  # type: ignore[misc]
                        pair(other, row[other], name, value) in pairs for other in row
                    ),
                )
        row = {name: row[name] for name in names}
        rows.append(row)
        pairs -= {pair(a, row[a], b, row[b]) for a, b in itertools.combinations(names, 2)}
    return rows


def project_files(project: Path) -> Iterator[Path]:
    """Every file of a baked project, outside ``.git`` and virtual environments."""
    for path in sorted(project.rglob("*")):
        parts = set(path.relative_to(project).parts)
        if path.is_file() and not parts & {".git", ".venv", "__pycache__"}:
            yield path


def parse_structured(path: Path) -> Any:
    """Parse a YAML, TOML or JSON file; return None for other files."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yaml", ".yml"} or path.name == ".pre-commit-config.yaml":
        return yaml.safe_load(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".json":
        return json.loads(text)
    return None


def assert_cleanly_rendered(project: Path) -> None:
    """No template syntax left, structured files parse, Python compiles and passes ruff."""
    for path in project_files(project):
        text = path.read_text(encoding="utf-8")
        leftover = LEFTOVER_TEMPLATE_SYNTAX.search(text)
        assert leftover is None, f"{path}: unrendered template syntax {leftover.group()!r}"
        parse_structured(path)
        if path.suffix == ".py":
            compile(text, str(path), "exec")
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [str(RUFF), *command], cwd=project, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"ruff {command[0]} in {project}:\n{result.stdout}"


def bake_for_e2e(output: Path, answers: Mapping[str, str] | None = None) -> Path:
    """Bake with the test git identity (the post-generation hook commits) and the package index."""
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in GIT_IDENTITY.items():
            patch.setenv(variable, value)
        return bake(output, {"package_index_url": default_package_index_url(), **(answers or {})})


def assert_own_checks_pass(project: Path, tests_target: str = "test") -> None:
    """The generated project's own tests (`make test`, or ``tests_target``), `make lint`
    and `poetry check` pass."""
    tests = make(project, tests_target)
    assert " passed" in tests.stdout
    assert " failed" not in tests.stdout
    assert (" deselected" in tests.stdout) == (tests_target == "test-fast")  # the slow ones
    lint = make(project, "lint")
    assert "All checks passed!" in lint.stdout
    assert "Success: no issues found" in lint.stdout
    assert "All set!" in run(["poetry", "check"], project).stdout
