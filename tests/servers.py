"""The S3/IAM server of the end-to-end tests (moto), and file hashes to compare data.

Generic process handling (free ports, start, stop by process group) is in tools.servers.

`moto_server` (from ``moto[server]``) speaks the S3 and IAM APIs, so DVC, MLflow
and boto3 talk to it exactly as they would to AWS. Every server gets a free port
from the operating system and writes its log to a file the failure message shows.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tools.servers import Server, free_port, start

TOOLS_BIN = Path(sys.executable).parent
REGION = "us-east-1"
# moto accepts any keys until IAM enforcement is switched on (see enforce_iam).
MOTO_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


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
