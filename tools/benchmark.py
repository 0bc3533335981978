"""Print the template's speed and size figures, with each target's ratio.

Run with `make benchmark`. Figures, not pass/fail: this machine is shared, so
timings vary from run to run; compare ratios across runs, not single numbers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tools.image import assemble
from tools.project import TEMPLATE_DIR, bake, default_package_index_url, make, run

GENERATION_TARGET_S = 2.0
PIPELINE_TARGET_S = 30.0
NOOP_RERUN_TARGET_S = 5.0
TEST_SUITE_TARGET_S = 30.0
IMAGE_SHARE_TARGET = 0.5  # the service image's environment against the dev environment


def directory_size(path: Path) -> int:
    """Total size in bytes of the files below ``path``."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def time_generation(runs: int) -> list[float]:
    """Wall time of `cookiecutter --no-input`, hooks included, once per run."""
    timings = []
    for attempt in range(runs):
        with tempfile.TemporaryDirectory() as output:
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cookiecutter",
                    "--no-input",
                    "-o",
                    output,
                    str(TEMPLATE_DIR),
                ],
                check=True,
                capture_output=True,
            )
            timings.append(time.perf_counter() - started)
        print(f"  generation run {attempt + 1}: {timings[-1]:.2f} s", flush=True)
    return timings


def timed(action: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure_project(
    output: Path, poetry_cache: Path | None, *, golden_path: bool = False
) -> dict[str, float]:
    """Bake and install a project; with ``golden_path``, time its pipeline and tests too."""
    project = bake(output, {"package_index_url": default_package_index_url()})
    env = {"POETRY_CACHE_DIR": str(poetry_cache)} if poetry_cache else {}
    figures = {"install": timed(lambda: make(project, "install", env=env))}
    if golden_path:
        figures["pipeline"] = timed(lambda: make(project, "pipeline"))
        figures["noop"] = timed(lambda: run(["poetry", "run", "dvc", "repro"], project))
        figures["test"] = timed(lambda: make(project, "test"))
        figures["venv_mb"] = directory_size(project / ".venv") / 1e6
        image = assemble(project, output / "image")  # the Dockerfile's steps, no Docker engine
        figures["image_venv_mb"] = directory_size(image.venv) / 1e6
    return figures


def report(name: str, value: float, unit: str, target: float | None = None) -> None:
    """Print one figure, and its ratio to the target when there is one."""
    line = f"{name:<40} {value:10.2f} {unit}"
    if target is not None:
        line += f"   target {target:g} {unit}, ratio {value / target:.2f}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Measure generation, install, and the sizes of the dev and image environments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="generation runs (median is reported)")
    args = parser.parse_args(argv)

    print(f"Generating the default project {args.runs} times...")
    generation = time_generation(args.runs)

    with tempfile.TemporaryDirectory() as output:
        # A fresh Poetry cache shows a first install; the second project reuses its cache.
        cold = measure_project(Path(output) / "cold", Path(output) / "poetry-cache")
    with tempfile.TemporaryDirectory() as output:
        warm = measure_project(Path(output) / "warm", None, golden_path=True)
    print()
    report(
        "generation (median, hooks included)",
        statistics.median(generation),
        "s",
        GENERATION_TARGET_S,
    )
    report("generation (max)", max(generation), "s")
    report("make install, empty Poetry cache", cold["install"], "s")
    report("make install, warm Poetry cache", warm["install"], "s")
    report("make pipeline (first run, dvc repro)", warm["pipeline"], "s", PIPELINE_TARGET_S)
    report("dvc repro again (nothing to do)", warm["noop"], "s", NOOP_RERUN_TARGET_S)
    report("make test (generated suite)", warm["test"], "s", TEST_SUITE_TARGET_S)
    report("environment size (.venv)", warm["venv_mb"], "MB")
    report("service image's environment (main only)", warm["image_venv_mb"], "MB")
    share = warm["image_venv_mb"] / warm["venv_mb"]
    report("image's environment / .venv", share, "", IMAGE_SHARE_TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
