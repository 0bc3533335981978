"""Bake this template and drive the generated project.

One implementation shared by the template's tests, the demo (`make demo`) and
the benchmarks, so all three exercise a project the same way a user does:
`cookiecutter`, then the project's own `make` targets with Poetry.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
TOOLS_BIN = Path(sys.executable).parent


def default_package_index_url() -> str:
    """Return the package index generated projects install from in tests and demos.

    ``PACKAGE_INDEX_URL`` wins when set (a company mirror). Otherwise it is
    Poetry's own default index, read from Poetry at run time and used through
    its simple API: some proxies serve only that API, not the JSON one Poetry
    asks for PyPI by default.
    """
    from poetry.repositories.pypi_repository import PyPiRepository

    return os.environ.get("PACKAGE_INDEX_URL") or PyPiRepository().url


def bake(output_dir: Path, answers: Mapping[str, str] | None = None) -> Path:
    """Generate a project with ``cookiecutter --no-input`` and return its folder."""
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(output_dir),
            extra_context=dict(answers or {}),
        )
    )


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for commands run inside a generated project.

    Poetry comes from this template's own environment; the project gets its own
    ``.venv`` (never this one, hence no ``VIRTUAL_ENV``). Python may write bytecode
    caches there (no ``PYTHONDONTWRITEBYTECODE``, which some machines set): a project
    installed without compiling (:func:`install`) then compiles each module
    once, on first import, instead of in every process (MLflow, scikit-learn and
    pandas take about 15 s to import from source, 6 s compiled).
    """
    unwanted = {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    env = {key: value for key, value in os.environ.items() if key not in unwanted}
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["POETRY_NO_INTERACTION"] = "1"
    env.update(extra or {})
    return env


class CommandFailed(RuntimeError):
    """A command in the generated project exited non-zero."""


def run(
    command: Sequence[str],
    project: Path,
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``project``; on failure raise with its full output."""
    result = subprocess.run(
        list(command),
        cwd=project,
        env=project_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise CommandFailed(
            f"`{' '.join(command)}` exited {result.returncode} in {project}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def make(
    project: Path,
    target: str,
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one of the generated project's ``make`` targets."""
    return run(
        ["make", "--no-print-directory", target], project, timeout=timeout, env=env, check=check
    )


def install(project: Path, env: Mapping[str, str] | None = None) -> None:
    """`make install` as a user runs it: the template's lock, re-locked if the answers need it.

    Modules are compiled on first import, not up front (:func:`project_env` drops
    PYTHONDONTWRITEBYTECODE, which would make `make install` compile all of them).
    """
    make(project, "install", env=env, timeout=1800)


def use_dataset(project: Path, name: str, conf: str) -> None:
    """Write ``conf/data/<name>.yaml`` and select it in ``conf/config.yaml``: configuration only."""
    (project / "conf" / "data" / f"{name}.yaml").write_text(conf, encoding="utf-8")
    config = project / "conf" / "config.yaml"
    text, count = re.subn(r"(?m)^  - data: \S+$", f"  - data: {name}", config.read_text())
    if count != 1:
        raise ValueError(f"{config} does not select one dataset (`  - data: <name>`)")
    config.write_text(text, encoding="utf-8")
