"""Shipping prediction logs to the project's S3 prefix and fetching them elsewhere (real S3 API)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.metadata import Metadata, load_metadata
from {{ cookiecutter.package_name }}.monitoring.shipping import MANIFEST, main
from {{ cookiecutter.package_name }}.prediction_log import (
    CLOSED_SUFFIX,
    OPEN_SUFFIX,
    LogSettings,
    PredictionLog,
    log_files,
    read_logs,
)
from {{ cookiecutter.package_name }}.tracking import registered_model_name

from .conftest import create_bucket

ROW = {"plan": "basic", "fee": 12.5}


@pytest.fixture
def project(scratch_project: Path, s3: Any) -> tuple[Metadata, Path, Any]:
    """The scratch project, its bucket on a real S3 API, and its model's log folder."""
    metadata = load_metadata()
    create_bucket(s3, metadata.storage.bucket, metadata.storage.region)
    name = registered_model_name(compose_config(root=scratch_project), metadata)
    return metadata, metadata.prediction_log_dir(name), s3


def finished_pid() -> int:
    """The id of a process that has exited (nothing runs under it now)."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(process.stdout)


def logged(folder: Path, requests: int) -> None:
    log = PredictionLog(LogSettings(folder), "model", "1", "run")
    for index in range(requests):
        log.write(f"req-{index}", [ROW], ["yes"])
    log.close()


def keys(client: Any, metadata: Metadata) -> list[str]:
    listing = client.list_objects_v2(Bucket=metadata.storage.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_closed_and_abandoned_files_are_shipped_once(project: tuple[Metadata, Path, Any]) -> None:
    metadata, folder, client = project
    logged(folder, 3)
    host = socket.gethostname()
    abandoned = folder / f"{host}-{finished_pid()}-20260101T000000000000{OPEN_SUFFIX}"
    abandoned.write_bytes(
        b'{"time": "2026-01-01T00:00:00.000000Z", "request_id": "a", "row": 0}\n{"time": "20'
    )
    running = folder / f"{host}-{os.getpid()}-20260101T000000000001{OPEN_SUFFIX}"
    running.write_bytes(b"")

    assert main(["ship"]) == 0
    assert main(["ship"]) == 0  # nothing new: nothing sent twice

    prefix = metadata.prediction_log_uri(folder.name).removeprefix(
        f"s3://{metadata.storage.bucket}/"
    )
    shipped = keys(client, metadata)
    assert len(shipped) == 2 and all(key.startswith(prefix + "/") for key in shipped)
    assert running.exists()  # the file of a live process stays open, unshipped
    closed = sorted(path.name for path in folder.glob(f"*{CLOSED_SUFFIX}"))
    assert closed == sorted(key.rpartition("/")[2] for key in shipped)
    assert sorted((folder / MANIFEST).read_text().split()) == closed
    was_abandoned = folder / abandoned.name.replace(OPEN_SUFFIX, CLOSED_SUFFIX)
    assert was_abandoned.read_bytes().endswith(b'"row": 0}\n')  # the cut line is gone


def test_fetch_brings_the_shipped_files_to_another_machine(
    project: tuple[Metadata, Path, Any], tmp_path: Path
) -> None:
    _, folder, _ = project
    logged(folder, 5)
    assert main(["ship"]) == 0
    shipped = {path.name: path.read_bytes() for path in folder.glob(f"*{CLOSED_SUFFIX}")}
    for path in list(folder.iterdir()):
        path.unlink()

    assert main(["fetch"]) == 0

    assert {path.name: path.read_bytes() for path in folder.glob(f"*{CLOSED_SUFFIX}")} == shipped
    assert len(read_logs(log_files(folder))) == 5


def test_an_unreachable_bucket_is_named(
    project: tuple[Metadata, Path, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, folder, _ = project
    logged(folder, 1)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")

    assert main(["ship"]) == 2

    error = capsys.readouterr().err
    assert "cannot reach s3://" in error and "Check the AWS credentials" in error
    assert not (folder / MANIFEST).exists()
