"""Generate a project and walk its golden path, the way a new user would.

Run it with `make demo` (or `python -m tools.demo [key=value ...]`, where each
key=value overrides one template answer). The project lands in build/demo/.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from tools.project import TEMPLATE_DIR, bake, default_package_index_url, make

DEFAULT_OUTPUT = TEMPLATE_DIR / "build" / "demo"

# The golden path, in order: each step is a `make` target of the generated project.
GOLDEN_PATH = (
    ("install", "install the package and its tools with Poetry"),
    ("lint", "ruff and mypy on the generated code"),
    ("test", "the generated project's own tests"),
    ("docs", "API reference with pdoc"),
    ("pipeline", "dvc repro: data through four stages, a trained, tracked and registered model"),
)


def parse_answers(pairs: list[str]) -> dict[str, str]:
    """Turn ``key=value`` arguments into template answers."""
    answers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"Expected key=value, got {pair!r} (e.g. project_name='Churn Model').")
        answers[key] = value
    return answers


def main(argv: list[str] | None = None) -> int:
    """Bake into a fresh output folder and run every golden-path step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("answers", nargs="*", help="template answers as key=value")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output folder")
    args = parser.parse_args(argv)

    answers = {"package_index_url": default_package_index_url(), **parse_answers(args.answers)}
    shutil.rmtree(args.output, ignore_errors=True)
    project = bake(args.output, answers)
    print(f"Generated {project}")
    for target, purpose in GOLDEN_PATH:
        started = time.perf_counter()
        print(f"==> make {target}: {purpose}", flush=True)
        result = make(project, target)
        print(result.stdout.rstrip())
        print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"\nThe golden path passed. Explore the project: cd {project} && make help")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
