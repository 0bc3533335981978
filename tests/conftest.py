"""Fixtures shared by the template's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tools.project import TEMPLATE_DIR

Bake = Callable[..., Path]


@pytest.fixture
def bake(cookies: Cookies) -> Bake:
    """Bake the template with some answers and return the new project's folder.

    Uses pytest-cookies, which renders into a per-test temporary directory with
    its own cookiecutter user config, so no test sees another's replay files.
    """

    def _bake(answers: Mapping[str, str] | None = None) -> Path:
        result = cookies.bake(extra_context=dict(answers or {}), template=str(TEMPLATE_DIR))
        assert result.exit_code == 0, f"bake failed: {result.exception!r}"
        assert result.project_path is not None
        return Path(result.project_path)

    return _bake


@pytest.fixture
def git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A git identity of the test's own, whatever the machine has configured."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Test User\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
