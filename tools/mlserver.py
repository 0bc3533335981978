"""Seldon MLServer serving a project's champion, for the serving benchmark.

MLServer with its MLflow runtime (`mlserver-mlflow`) is what KServe runs for
MLflow models: the V2 inference protocol, a pool of inference worker processes,
and adaptive batching (requests arriving within ``max_batch_time`` are merged into
one ``predict`` of up to ``max_batch_size`` rows). It gets a virtual environment of
its own (its pins differ from the project's), with the project installed into it
so the logged model finds the same libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# 1.7.1 is MLServer's release the comparison was first made with; it needs
# uvloop < 0.22 ("There is no current event loop" otherwise).
PACKAGES = ("mlserver==1.7.1", "mlserver-mlflow==1.7.1", "uvloop<0.22")
MODEL = "champion"


def mlserver_venv(folder: Path, project: Path) -> Path:
    """A virtual environment with MLServer and the project; its ``mlserver`` command."""
    command = folder.absolute() / "bin" / "mlserver"
    if command.exists():
        return command
    print(f"Installing MLServer and the project into {folder} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *PACKAGES, str(project)], check=True)
    return command


def write_settings(
    folder: Path,
    model_path: Path,
    *,
    workers: int,
    ports: tuple[int, int, int],
    batching: bool,
) -> Path:
    """MLServer's settings for one model in ``folder``: server, then model; returns ``folder``.

    ``ports`` are HTTP, gRPC and metrics; ``workers`` the inference pool's processes.
    With ``batching``, up to 32 requests arriving within 5 ms form one batch.
    """
    folder.mkdir(parents=True, exist_ok=True)
    http, grpc, metrics = ports
    server = {
        "http_port": http,
        "grpc_port": grpc,
        "metrics_port": metrics,
        "metrics_dir": str((folder / "metrics").resolve()),  # else .metrics/ in the cwd
        "host": "127.0.0.1",
        "parallel_workers": workers,
        "debug": False,
    }
    model: dict[str, Any] = {
        "name": MODEL,
        "implementation": "mlserver_mlflow.MLflowRuntime",
        "parameters": {"uri": str(model_path.resolve())},
    }
    if batching:
        model.update(max_batch_size=32, max_batch_time=0.005)
    (folder / "settings.json").write_text(json.dumps(server, indent=2))
    (folder / "model-settings.json").write_text(json.dumps(model, indent=2))
    return folder


def v2_body(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A V2 inference request of ``rows``: one input per column, decoded as a DataFrame."""
    names = list(rows[0])
    inputs = []
    for name in names:
        values = [row[name] for row in rows]
        if all(isinstance(v, bool) for v in values):
            datatype, data = "BOOL", values
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            datatype, data = "FP64", values
        else:  # text and dates (ISO 8601 text, as the example holds them)
            datatype, data = "BYTES", [str(v) for v in values]
        inputs.append({"name": name, "shape": [len(values), 1], "datatype": datatype, "data": data})
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def v2_predictions(answer: Mapping[str, Any]) -> list[Any]:
    """The predictions of a V2 inference response (its first output)."""
    return list(answer["outputs"][0]["data"])
