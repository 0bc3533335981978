"""The poetry.lock that generated projects start from (written by `make lock`)."""

from __future__ import annotations

import tomllib

from tests.conftest import Bake
from tools.lock import INDEX_SOURCE, TEMPLATE_LOCK
from tools.project import run


def test_the_shipped_lock_fits_a_project_of_the_default_answers(bake: Bake) -> None:
    project = bake()

    checked = run(["poetry", "check", "--lock"], project, check=False)

    assert checked.returncode == 0, (
        "poetry.lock no longer matches the default project's pyproject.toml: run `make lock`\n"
        + checked.stdout
        + checked.stderr
    )


def test_the_shipped_lock_names_no_package_index() -> None:
    packages = tomllib.loads(TEMPLATE_LOCK.read_text(encoding="utf-8"))["package"]

    assert len(packages) > 100
    indexed = [package["name"] for package in packages if "source" in package]
    assert not indexed, f"packages locked from a source ({INDEX_SOURCE}?): {indexed[:5]}"


def test_a_project_with_a_package_index_needs_a_new_lock(bake: Bake) -> None:
    project = bake({"package_index_url": "https://packages.example.com/simple/"})

    checked = run(["poetry", "check", "--lock"], project, check=False)

    assert checked.returncode != 0  # so `make install` locks again, keeping the versions
    assert (project / "poetry.lock").is_file()
