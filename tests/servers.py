"""The servers of the end-to-end tests (moto's S3/IAM, PostgreSQL, Prometheus), and file hashes.

Generic process handling (free ports, start, stop by process group) is in tools.servers.

`moto_server` (from ``moto[server]``) speaks the S3 and IAM APIs, so DVC, MLflow
and boto3 talk to it exactly as they would to AWS. Every server gets a free port
from the operating system and writes its log to a file the failure message shows.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


@dataclass
class PostgresServer:
    """A PostgreSQL server of its own (a fresh cluster) on 127.0.0.1."""

    server: Server
    port: int
    user: str
    data: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL of ``database`` (trust authentication: no password)."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str) -> str:
        """Run ``sql`` with psql and return its output."""
        result = subprocess.run(
            [
                _postgres_bin("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def stop(self) -> None:
        """Stop the server by process id and delete its cluster."""
        self.server.stop()
        shutil.rmtree(self.data, ignore_errors=True)


def _postgres_bin(name: str) -> str:
    """A PostgreSQL program: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name) or next(
        (str(path) for path in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (tools/system-deps.sh)")
    return found


def start_postgres(folder: Path) -> PostgresServer:
    """initdb a fresh cluster and start it on a free port of 127.0.0.1; its log goes to ``folder``.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the
    ``postgres`` user of Debian's package, lives in a folder of /tmp that user can
    reach (the test's own folders are private to root), and the server runs as it.
    """
    as_user: list[str] = []
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.geteuid() == 0:
        user = "postgres"
        as_user = ["runuser", "-u", user, "--"]
    data = Path(tempfile.mkdtemp(prefix="pgdata-", dir="/tmp" if as_user else folder))
    if as_user:
        shutil.chown(data, user, user)
    subprocess.run(
        [*as_user, _postgres_bin("initdb"), "-D", str(data), "-U", user, "--auth=trust"],
        capture_output=True,
        check=True,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data}"
    command = [*as_user, _postgres_bin("postgres"), "-D", str(data), *shlex.split(options)]
    server = _start_until(command, folder / "postgres.log", port)
    return PostgresServer(server, port, user, data)


def _start_until(command: list[str], log: Path, port: int) -> Server:
    """Start ``command`` and wait until something accepts connections on ``port``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server("postgres", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}:\n{server.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"postgres not ready on port {port}:\n{server.output()}")


@dataclass(frozen=True)
class PrometheusServer:
    """A Prometheus on 127.0.0.1 with its HTTP API."""

    server: Server
    url: str

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Prometheus holds now (pending or firing), from ``/api/v1/alerts``."""
        with urllib.request.urlopen(f"{self.url}/api/v1/alerts", timeout=10) as response:
            alerts: list[dict[str, Any]] = json.load(response)["data"]["alerts"]
        return alerts

    def stop(self) -> None:
        """Stop the server by process id."""
        self.server.stop()


def start_prometheus(config: Path, folder: Path) -> PrometheusServer:
    """Start Debian's ``prometheus`` with ``config`` on a free port of 127.0.0.1."""
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={folder / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    server = start("prometheus", command, folder / "prometheus.log", ready_url=f"{url}/-/ready")
    return PrometheusServer(server, url)


@dataclass(frozen=True)
class SparkCluster:
    """Spark's own standalone cluster on 127.0.0.1: a master and one worker, each a JVM.

    Unlike ``local[n]``, the tasks run in an executor the worker starts, a process of
    its own with the worker's environment, as on a cluster's machines.
    """

    master: Server
    worker: Server
    url: str  # spark://127.0.0.1:<port>, what spark-submit's --master takes

    def stop(self) -> None:
        """Stop the worker (and its executors), then the master, by process id."""
        self.worker.stop()
        self.master.stop()


def start_spark_cluster(
    spark_home: Path, folder: Path, worker_env: dict[str, str], cores: int = 2
) -> SparkCluster:
    """Start a master and a worker of the pyspark in ``spark_home`` (its package folder).

    ``worker_env`` is added to the worker's environment, which its executors get:
    what a cluster's machines give their tasks (credentials, say).
    """
    spark_class = str(spark_home / "bin/spark-class")
    env = {
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",  # no fixed port 6066
    }
    port, ui_port, worker_ui_port = free_port(), free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    master = start(
        "spark master",
        [
            *(spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"),
            *("--port", str(port), "--webui-port", str(ui_port)),
        ],
        folder / "master.log",
        ready_url=f"{ui}/json/",
        env=env,
    )
    url = f"spark://127.0.0.1:{port}"
    try:
        worker = start(
            "spark worker",
            [
                *(spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1"),
                *("--webui-port", str(worker_ui_port), "--cores", str(cores), "--memory", "2g"),
                *("--work-dir", str(folder / "work")),
            ],
            folder / "worker.log",
            ready_url=f"http://127.0.0.1:{worker_ui_port}/json/",
            env={**env, **worker_env},
        )
        _until_registered(ui, worker)
    except RuntimeError:
        master.stop()
        raise
    return SparkCluster(master, worker, url)


def _until_registered(ui: str, worker: Server, timeout: float = 60) -> None:
    """Wait until the master at ``ui`` lists a live worker (its own UI answers earlier)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{ui}/json/", timeout=5) as response:
            if json.load(response)["aliveworkers"]:
                return
        time.sleep(0.5)
    worker.stop()
    raise RuntimeError(f"no Spark worker registered within {timeout} s:\n{worker.output()}")
