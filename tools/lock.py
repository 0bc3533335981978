"""Write the poetry.lock that generated projects start from. Run with `make lock`.

Why ship a lock: Poetry's resolver takes over a minute on the ~260 packages of a
project (most of it CPU spent in backtracking, with a warm cache), and without a
lock every new project gets whatever versions were newest that day. With it, a
project baked with the default answers installs exactly the versions this
template's tests ran with, without resolving. Other answers (another Python
version, no service, a private package index) change what the lock must cover;
the project's `make install` then re-locks, which keeps these versions wherever
they still fit and takes seconds.

Resolving needs a package index this machine can read: the lock is resolved for
a project baked with Poetry's simple index as its source (see
``tools.project.default_package_index_url``), then stored as Poetry writes it for
the default answers, which name no source: the source entries are dropped and the
content hash is the default project's. The last step checks the result with
`poetry check --lock` in a project baked with the default answers.
"""

from __future__ import annotations

import argparse
import tempfile
import tomllib
from pathlib import Path

import tomlkit
from poetry.packages.locker import Locker

from tools.project import TEMPLATE_DIR, bake, default_package_index_url, run

LOCK_FILE = "poetry.lock"
TEMPLATE_LOCK = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / LOCK_FILE
INDEX_SOURCE = "private-index"  # the source name pyproject.toml gives `package_index_url`


def default_lock(resolved: str, default_pyproject: Path) -> str:
    """The lock text ``resolved`` (locked with the index source) as the default project's."""
    document = tomlkit.parse(resolved)
    for package in document["package"]:
        source = package.get("source")
        if source is not None and source.get("reference") == INDEX_SOURCE:
            del package["source"]
    pyproject = tomllib.loads(default_pyproject.read_text(encoding="utf-8"))
    # Poetry's own hash of the relevant parts of pyproject.toml (its `poetry check --lock`
    # compares the same value), so no rule of Poetry's is restated here.
    content_hash = Locker(default_pyproject.parent / LOCK_FILE, pyproject)._get_content_hash()
    document["metadata"]["content-hash"] = content_hash
    return tomlkit.dumps(document)


def main(argv: list[str] | None = None) -> int:
    """Resolve, convert, check and write the template's lock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=TEMPLATE_LOCK)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        indexed = bake(Path(folder) / "indexed", {"package_index_url": default_package_index_url()})
        print("Resolving the newest versions (a minute or two)...")
        run(["poetry", "lock", "--regenerate"], indexed, timeout=1800)
        default = bake(Path(folder) / "default")
        text = default_lock(
            (indexed / LOCK_FILE).read_text(encoding="utf-8"), default / "pyproject.toml"
        )
        (default / LOCK_FILE).write_text(text, encoding="utf-8")
        run(["poetry", "check", "--lock"], default)  # raises with Poetry's words if stale
    args.output.write_text(text, encoding="utf-8")
    packages = len(tomllib.loads(text)["package"])
    print(f"Wrote {args.output.relative_to(TEMPLATE_DIR)}: {packages} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
