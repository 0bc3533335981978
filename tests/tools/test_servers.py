"""How the benchmarks measure a command's memory: real processes, forked and not."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.servers import stop_process_group, tree_cpu_seconds, tree_memory_bytes

MB = 1 << 20

# Holds 200 MB (every page written, so resident), forks a copy that shares them,
# and starts a program of its own that holds 50 MB more; then waits to be measured.
FAMILY = """
import os, subprocess, sys, time
block = bytearray(200 << 20)
for page in range(0, len(block), 4096):
    block[page] = 1
if os.fork() == 0:
    time.sleep(120)
    os._exit(0)
other = "x = bytearray(50 << 20)\\nfor p in range(0, len(x), 4096): x[p] = 1\\nprint(flush=True)\\n"
helper = subprocess.Popen(
    [sys.executable, "-c", other + "import time; time.sleep(120)"], stdout=subprocess.PIPE
)
helper.stdout.readline()
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def family() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    yield process
    stop_process_group(process)


def resident_sum(pid: int) -> int:
    """What summing each process's resident size would say: shared pages counted twice."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        text = stat.read_text()
        fields = text[text.rindex(")") + 2 :].split()
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[21]) * 4096
    return total


def test_a_forked_copy_counts_the_pages_it_shares_once(
    family: subprocess.Popen[bytes],
) -> None:
    time.sleep(0.2)  # the forked copy is there before the helper; let all settle

    measured = tree_memory_bytes(family.pid)

    assert resident_sum(family.pid) > 450 * MB  # the block twice, and the helper's
    assert 250 * MB <= measured < 350 * MB  # the block once, the helper, three interpreters


# A forked child spends 0.3 s of CPU (process time, however busy the machine), then waits.
BUSY_CHILD = """
import os, time
if os.fork() == 0:
    while time.process_time() < 0.3:
        pass
    print("spent", flush=True)
    time.sleep(120)
    os._exit(0)
time.sleep(120)
"""


def test_cpu_time_is_told_per_process_of_the_tree() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"spent\n"

        seconds = tree_cpu_seconds(process.pid)
    finally:
        stop_process_group(process)

    assert len(seconds) == 2
    assert seconds[process.pid] < 0.25  # the parent only waited
    assert max(seconds.values()) >= 0.29  # the child's own time, in clock ticks
