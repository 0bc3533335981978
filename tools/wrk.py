"""Load a server with wrk (Debian package `wrk`): many keep-alive connections from C.

A Python load generator tops out near the rate of the servers it measures on a
small machine; wrk does not, and holds as many open connections as asked. Each run
POSTs one body to one URL for a fixed time and reads wrk's summary: requests per
second, latency percentiles (``--latency``) and errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open("{body}", "rb")
wrk.body = file:read("*a")
file:close()
"""


class WrkMissing(RuntimeError):
    """wrk is not installed; the message says how to install it."""


@dataclass(frozen=True)
class WrkResult:
    """wrk's summary of one run."""

    requests: int
    seconds: float
    rate: float  # requests per second
    p50: float  # seconds
    p99: float  # seconds
    errors: int  # non-2xx answers, and connect, read, write and timeout errors


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse(output: str) -> WrkResult:
    """The figures of wrk's text output (run with ``--latency``)."""
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (done and rate and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(
        int(done.group(1)),
        _seconds(done.group(2)),
        float(rate.group(1)),
        _seconds(p50.group(1)),
        _seconds(p99.group(1)),
        errors,
    )


def run_wrk(url: str, body: bytes, connections: int, seconds: int, threads: int = 2) -> WrkResult:
    """POST ``body`` to ``url`` over ``connections`` keep-alive connections for ``seconds``."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkMissing("the serving benchmark needs wrk: sudo apt-get install wrk")
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_bytes(body)
        script = Path(folder) / "post.lua"
        script.write_text(SCRIPT.format(body=body_file))
        result = subprocess.run(
            [
                wrk,
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    return parse(result.stdout)
