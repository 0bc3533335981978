"""Real servers for the end-to-end tests, started on 127.0.0.1 and stopped by process id.

`moto_server` (from ``moto[server]``) speaks the S3 and IAM APIs, so DVC, MLflow
and boto3 talk to it exactly as they would to AWS. Every server gets a free port
from the operating system and writes its log to a file the failure message shows.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

TOOLS_BIN = Path(sys.executable).parent
REGION = "us-east-1"
# moto accepts any keys until IAM enforcement is switched on (see enforce_iam).
MOTO_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process the test started, with the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """The server's log so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the server's process group by id: SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


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


@dataclass
class MotoServer:
    """A moto S3/IAM server on 127.0.0.1."""

    server: Server
    url: str

    def client(self, service: str = "s3", **keys: str) -> Any:
        """A boto3 client of this server; ``keys`` replace the default test keys."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=keys.get("aws_access_key_id", MOTO_KEYS["AWS_ACCESS_KEY_ID"]),
            aws_secret_access_key=keys.get(
                "aws_secret_access_key", MOTO_KEYS["AWS_SECRET_ACCESS_KEY"]
            ),
        )

    def enforce_iam(self, enforce: bool = True) -> None:
        """Switch moto's IAM checks on (every later request must be allowed) or off."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth",
            data=b"0" if enforce else b"inf",
            headers={"Content-Type": "text/plain"},  # a form body would hide the number
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def stop(self) -> None:
        """Stop the server by process id."""
        self.server.stop()


def start_moto(log_dir: Path) -> MotoServer:
    """Start ``moto_server`` on a free port of 127.0.0.1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(
        "moto_server",
        [str(TOOLS_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        log_dir / "moto.log",
        ready_url=f"{url}/moto-api/data.json",
    )
    return MotoServer(server, url)


def tree_hashes(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """SHA-256 of every file at or below ``paths`` of ``root``, by relative path."""
    hashes = {}
    for top in paths:
        files = [root / top] if (root / top).is_file() else sorted((root / top).rglob("*"))
        for path in files:
            if path.is_file():
                relative = str(path.relative_to(root))
                hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes
