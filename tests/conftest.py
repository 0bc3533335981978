"""Fixtures shared by the template's tests."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tests.servers import MotoServer, start_moto
from tools.project import TEMPLATE_DIR

Bake = Callable[..., Path]

# The slow tier's files, the longest first (their share of CI's `--durations`).
# `make test` hands test scopes (a module, or a class) to its two xdist workers in
# collection order (`--no-loadscope-reorder`), so the long ones start at once and
# the short ones fill in at the end. xdist's own order, by number of tests, started
# the projects of test_generated_project_e2e (two tests, ten minutes each) last,
# one after the other on one worker while the other idled.
LONGEST_FIRST = (
    "tests/test_golden_path_e2e.py",
    "tests/test_own_data_e2e.py",
    "tests/test_generated_project_e2e.py",
    "tests/test_mlflow_server_e2e.py",
    "tests/test_serving_e2e.py",
    "tests/test_dev_workflow_e2e.py",
    "tests/test_s3_remote_e2e.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the slow tier's files longest first; the rest keep their order, after them."""
    gone = [path for path in LONGEST_FIRST if not (config.rootpath / path).is_file()]
    if gone:  # renamed: it would silently start last
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names missing files: {gone}")

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a file, tests keep their order


@pytest.fixture(scope="session", autouse=True)
def remove_temporary_folders_after_a_green_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Delete this session's (or xdist worker's) temporary folders once every test passed.

    Each end-to-end test leaves a baked project with a .venv of about 1 GB. Left in
    place, pytest deletes them at the start of a later session of any project on the
    machine, which then takes tens of seconds longer. A failed run keeps them to inspect.
    The deletion runs in the background: it took minutes, at the end of the run.
    """
    yield
    if request.session.testsfailed == 0:
        subprocess.Popen(
            ["rm", "-rf", str(tmp_path_factory.getbasetemp())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@pytest.fixture(scope="session", autouse=True)
def temporary_files_in_the_session_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Create this process's temporary files in the session's folder, not the machine's.

    cookiecutter writes every rendered hook to a temporary file and never deletes it
    (cookiecutter issue 886, closed as intended); a run bakes hundreds of projects.
    The session's folder goes with the rest after a green run.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tempfiles")))
        yield


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


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto S3/IAM server on 127.0.0.1 for one test module, stopped after it."""
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
