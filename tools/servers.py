"""Servers started by the template's tests and benchmarks: on 127.0.0.1, stopped by process id.

Every server runs in its own process group (it may fork workers: gunicorn, make
and poetry in between), gets a free port from the operating system and writes its
output to a log file that failure messages show.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.project import project_env

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM the process group, SIGKILL it after ``timeout``, and wait until it is empty."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    # Forked workers leave the group only when they have exited.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)


def ready_in_a_row(
    port: int, path: str, process: subprocess.Popen[bytes], *, timeout: float, times: int = 20
) -> None:
    """Wait until ``GET path`` answers 200 ``times`` in a row: every worker is up.

    Raises:
        RuntimeError: The process exited, or the time ran out.
    """
    deadline, in_a_row = time.monotonic() + timeout, 0
    while in_a_row < times:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} was not ready within {timeout} s")
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            connection.request("GET", path)
            in_a_row = in_a_row + 1 if connection.getresponse().status == 200 else 0
        except OSError:
            in_a_row = 0
        finally:
            connection.close()
        time.sleep(0.05 if in_a_row else 0.5)


@dataclass
class Server:
    """A server process a test started, with the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """The server's log so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the server's whole process group."""
        stop_process_group(self.process, timeout=10)


def start(
    name: str,
    command: Sequence[str],
    log: Path,
    *,
    ready_url: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    ready_statuses: tuple[int, ...] = (200,),
    context: ssl.SSLContext | None = None,
) -> Server:
    """Start ``command`` in its own process group and wait until ``ready_url`` answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(name, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(ready_url, timeout=2, context=context) as response:
                if response.status in ready_statuses:
                    return server
        except urllib.error.HTTPError as error:
            if error.code in ready_statuses:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{name} not ready at {ready_url} within {timeout} s:\n{server.output()}")


def serve_and_predict(
    project: Path, row: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Start `make serve` (with ``env``), post the model card's input example (``row``
    merged in), stop. Returns the service's answer.
    """
    port = free_port()
    server = start(
        "service",
        ["make", "--no-print-directory", "serve"],
        project / "serve.log",
        ready_url=f"http://{HOST}:{port}/ready",
        env=project_env({**(env or {}), "PORT": str(port), "HOST": HOST, "WORKERS": "1"}),
        cwd=project,
        timeout=300,
    )
    try:
        return predict_example(f"http://{HOST}:{port}", row)
    finally:
        server.stop()


def predict_example(url: str, row: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Post the model card's input example (``row`` merged in) to the service at ``url``.

    Returns the service's answer.
    """
    with urllib.request.urlopen(f"{url}/model", timeout=30) as response:
        example = json.load(response)["input_example"][0]
    request = urllib.request.Request(
        f"{url}/predict",
        data=json.dumps({**example, **(row or {})}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def _stats() -> dict[int, list[str]]:
    """Each live process: its pid and the fields of its ``/proc/<pid>/stat`` after
    "pid (command)" (Linux; state is fields[0], ppid fields[1], pgrp fields[2])."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        stats[int(stat.parent.name)] = text[text.rindex(")") + 2 :].split()
    return stats


def _group_stats(pgid: int) -> Iterator[tuple[int, list[str]]]:
    """Each live process of process group ``pgid``, as ``_stats`` gives it."""
    for pid, fields in _stats().items():
        if int(fields[2]) == pgid:
            yield pid, fields


def group_cpu_seconds(pgid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each live process of process group ``pgid``.

    The servers started here run in process groups of their own, so a group is a
    server with all its workers.
    """
    return {pid: _cpu_seconds(fields) for pid, fields in _group_stats(pgid)}


def tree_memory_bytes(pid: int) -> int:
    """Memory, in bytes, of process ``pid`` and all its live descendants together.

    The tree rather than the process group: a program may start helpers in groups of
    their own (Spark's JVM starts its Python workers' daemon in a new session).
    A process counts its resident size, except that pages a forked copy shares with
    the process it was forked from count once: a family of forked copies (Spark's
    Python workers and their daemon) counts its proportional set sizes (a page
    shared by n processes counts 1/n in each; slower to read, so only there). A
    child that runs in its parent's memory (a JVM starting a program: between
    ``vfork`` and ``exec``) is left out, its size being its parent's.
    """
    stats = _stats()
    tree = _tree(stats, pid)
    commands = {member: _command(member) for member in tree}
    parents = {member: int(stats[member][1]) for member in tree if member != pid}
    forked = {
        member
        for member, parent in parents.items()
        if parent in tree and commands[member] == commands[parent]
    }
    families = forked | {parents[member] for member in forked}
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for member in tree:
        parent = parents.get(member)
        if parent in tree and stats[parent][20:22] == stats[member][20:22]:
            continue  # vsize and rss (fields 23, 24) are its parent's: the same memory
        if member in families:
            total += _proportional_bytes(member)
        else:
            total += int(stats[member][21]) * page
    return total


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by process ``pid`` and each live descendant.

    A process's own time only, so that a caller adding up what it saw of each
    process over a run counts a process once, after it ended too.
    """
    stats = _stats()
    return {member: _cpu_seconds(stats[member]) for member in _tree(stats, pid)}


def _cpu_seconds(fields: list[str]) -> float:
    """A process's own CPU seconds (user + system), from its ``_stats`` fields."""
    # utime and stime are fields 14 and 15 of stat.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(stats: dict[int, list[str]], pid: int) -> set[int]:
    """Process ``pid`` and its live descendants, from ``_stats``."""
    tree, added = {pid}, True
    while added:  # ppid is fields[1]
        found = {child for child, fields in stats.items() if int(fields[1]) in tree}
        added = bool(found - tree)
        tree |= found
    return tree & stats.keys()


def _command(pid: int) -> bytes:
    """The command line of process ``pid`` (empty if it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _proportional_bytes(pid: int) -> int:
    """The proportional set size of process ``pid`` in bytes (0 if it has ended)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024  # in kB
    except (FileNotFoundError, ProcessLookupError):  # the process ended meanwhile
        pass
    return 0
