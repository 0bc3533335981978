"""Move prediction logs between the serving machine and the project's S3 prefix.

    {{ cookiecutter.project_slug }}-logs ship    # on the serving machine (make ship-logs)
    {{ cookiecutter.project_slug }}-logs fetch   # where the monitor runs (make fetch-logs)

``ship`` uploads every closed log file (``*.jsonl``) of the served model to
``s3://<bucket>/<prefix>/monitoring/predictions/<model>/`` that is not there yet
with the same size, then lists it in ``shipped.txt`` so the next run skips it. A
file left open by a worker that no longer runs on this machine (killed, or the
service stopped) is closed first: its complete lines are kept, a line the worker
was killed in the middle of is dropped. Local files are never deleted.

``fetch`` downloads the shipped files this machine does not have, so
``make monitor`` on another machine reads what the service logged.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..data.io import atomic_write_bytes
from ..metadata import Metadata, MetadataError, load_metadata
from ..prediction_log import CLOSED_SUFFIX, OPEN_SUFFIX, close_log_file, complete_lines
from ..s3 import explain_s3_error, s3_client, split_uri
from ..tracking import registered_model_name
from .settings import load_monitor_settings

MANIFEST = "shipped.txt"


class ShippingError(RuntimeError):
    """S3 refused or could not be reached; the message says what to check."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def close_abandoned(folder: Path) -> list[Path]:
    """Close the open files of this machine's processes that have exited; return them."""
    host = socket.gethostname()
    closed = []
    for path in sorted(folder.glob(f"*{OPEN_SUFFIX}")):
        name = path.name.removesuffix(OPEN_SUFFIX)
        file_host, _, rest = name.rpartition("-")[0].rpartition("-")
        pid = rest
        if file_host != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        complete = complete_lines(path)
        if len(complete) != path.stat().st_size:  # a line cut by the kill
            atomic_write_bytes(complete, path)
        closed.append(close_log_file(path))
    return closed


def _shipped(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return set()
    return set(manifest.read_text(encoding="utf-8").split())


def ship(folder: Path, uri: str, client: Any) -> list[Path]:
    """Upload the closed files of ``folder`` not shipped yet to ``uri``; return them."""
    from botocore.exceptions import BotoCoreError, ClientError

    close_abandoned(folder)
    done = _shipped(folder)
    bucket, prefix = split_uri(uri)
    sent = []
    try:
        for path in sorted(folder.glob(f"*{CLOSED_SUFFIX}")):
            if path.name in done:
                continue
            key = f"{prefix}/{path.name}"
            client.upload_file(str(path), bucket, key)
            if client.head_object(Bucket=bucket, Key=key)["ContentLength"] != path.stat().st_size:
                raise ShippingError(f"s3://{bucket}/{key} does not have the size of {path}")
            with (folder / MANIFEST).open("a", encoding="utf-8") as manifest:
                manifest.write(path.name + "\n")
            sent.append(path)
    except (BotoCoreError, ClientError) as error:
        raise ShippingError(
            f"{explain_s3_error(error, uri)} {len(sent)} file(s) were shipped before the error."
        ) from error
    return sent


def fetch(folder: Path, uri: str, client: Any) -> list[Path]:
    """Download the files under ``uri`` that ``folder`` lacks; return them."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_uri(uri)
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rpartition("/")[2]
                target = folder / name
                if not name.endswith(CLOSED_SUFFIX) or target.exists():
                    continue
                partial = folder / (name + ".partial")
                client.download_file(bucket, item["Key"], str(partial))
                os.replace(partial, target)
                fetched.append(target)
    except (BotoCoreError, ClientError) as error:
        raise ShippingError(explain_s3_error(error, uri)) from error
    return fetched


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``ship`` or ``fetch``; 0 on success, 2 on failure."""
    parser = argparse.ArgumentParser(description="Ship prediction logs to S3, or fetch them.")
    parser.add_argument("action", choices=["ship", "fetch"])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=other")
    args = parser.parse_args(argv)
    try:
        metadata: Metadata = load_metadata()
        _, config = load_monitor_settings(args.overrides, metadata.root)
        model_name = registered_model_name(config, metadata)
        folder = metadata.prediction_log_dir(model_name)
        uri = metadata.prediction_log_uri(model_name)
        client = s3_client(metadata.storage)
        if args.action == "ship":
            files = ship(folder, uri, client) if folder.is_dir() else []
            print(f"Shipped {len(files)} closed log file(s) from {folder} to {uri}")
        else:
            files = fetch(folder, uri, client)
            print(f"Fetched {len(files)} log file(s) from {uri} to {folder}")
    except (ShippingError, ConfigError, MetadataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
