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
from pathlib import Path

from tools.project import TEMPLATE_DIR, bake, default_package_index_url, make

GENERATION_TARGET_S = 2.0


def directory_size(path: Path) -> int:
    """Total size in bytes of the files below ``path``."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def time_generation(runs: int) -> list[float]:
    """Wall time of `cookiecutter --no-input`, hooks included, once per run."""
    timings = []
    for run in range(runs):
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
        print(f"  generation run {run + 1}: {timings[-1]:.2f} s", flush=True)
    return timings


def report(name: str, value: float, unit: str, target: float | None = None) -> None:
    """Print one figure, and its ratio to the target when there is one."""
    line = f"{name:<40} {value:10.2f} {unit}"
    if target is not None:
        line += f"   target {target:g} {unit}, ratio {value / target:.2f}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Measure generation, install and environment size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="generation runs (median is reported)")
    args = parser.parse_args(argv)

    print(f"Generating the default project {args.runs} times...")
    generation = time_generation(args.runs)

    installs = {}
    for cache in ("cold", "warm"):
        with tempfile.TemporaryDirectory() as output:
            project = bake(Path(output), {"package_index_url": default_package_index_url()})
            # A fresh Poetry cache shows a first install; the second reuses the first's cache.
            env = (
                {"POETRY_CACHE_DIR": str(Path(output) / "poetry-cache")} if cache == "cold" else {}
            )
            started = time.perf_counter()
            make(project, "install", env=env)
            installs[cache] = time.perf_counter() - started
            started = time.perf_counter()
            make(project, "test")
            test_s = time.perf_counter() - started
            venv_mb = directory_size(project / ".venv") / 1e6
    print()
    report(
        "generation (median, hooks included)",
        statistics.median(generation),
        "s",
        GENERATION_TARGET_S,
    )
    report("generation (max)", max(generation), "s")
    report("make install, empty Poetry cache", installs["cold"], "s")
    report("make install, warm Poetry cache", installs["warm"], "s")
    report("make test (generated suite)", test_s, "s")
    report("environment size (.venv)", venv_mb, "MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
