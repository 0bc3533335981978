"""Slow tier: the generated service under real gunicorn, with the pipeline's champion model.

Bakes the default project, installs it, runs `make pipeline`, starts `make serve`
on 127.0.0.1 (a free port, two workers) and talks HTTP to it: the model's own
input example, malformed requests, then 10 000 requests from concurrent clients.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.checks import bake_for_e2e
from tools.project import make, project_env, run
from tools.servers import HOST, free_port, ready_in_a_row, stop_process_group

pytestmark = pytest.mark.e2e

WORKERS = 2
LOAD_REQUESTS = 10_000
LOAD_THREADS = 16
READY_TIMEOUT = 300.0


@dataclass(frozen=True)
class Service:
    port: int
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        status, raw = self.request(method, path, body, {"Content-Type": "application/json"})
        return status, json.loads(raw)

    def example_row(self) -> dict[str, Any]:
        """The first row of the input example the service's model card offers."""
        row: dict[str, Any] = self.json("GET", "/model")[1]["input_example"][0]
        return row

    def metric(self, name: str, labels: str = "") -> float:
        _, raw = self.request("GET", "/metrics")
        pattern = "^" + re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)$"
        match = re.search(pattern, raw.decode(), re.MULTILINE)
        return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = bake_for_e2e(tmp_path_factory.mktemp("serving"))
    make(root, "install")
    make(root, "pipeline", timeout=1800)
    return root


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[Service]:
    port = free_port()
    log = project / "serve.log"
    env = project_env({"PORT": str(port), "HOST": HOST, "WORKERS": str(WORKERS)})
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, poetry, gunicorn, workers
        )
    try:
        running = Service(port, log)
        try:
            ready_in_a_row(port, "/ready", process, timeout=READY_TIMEOUT)
        except RuntimeError as error:
            pytest.fail(f"{error}:\n{log.read_text(errors='replace')[-3000:]}")
        yield running
    finally:
        stop_process_group(process, timeout=60)


def test_the_model_input_example_predicts(service: Service) -> None:
    status, card = service.json("GET", "/model")
    assert status == 200
    assert (card["alias"], card["version"]) == ("champion", "1")

    status, answer = service.json("POST", "/predict", card["input_example"])

    assert status == 200
    assert answer["predictions"][0] in {"yes", "no"}  # the example's classes (churned)
    assert service.request("GET", "/health")[0] == 200
    assert service.json("GET", "/openapi.json")[1]["openapi"].startswith("3.")


def test_raw_rows_with_gaps_text_and_dates_are_served(service: Service) -> None:
    row = service.example_row()
    columns = service.json("GET", "/model")[1]["columns"]
    blank = {column["name"]: None for column in columns}

    for payload in (blank, {**row, "customer_id": "C99999"}, {**row, "region": "atlantis"}):
        status, answer = service.json("POST", "/predict", payload)
        assert status == 200, answer
        assert answer["predictions"][0] in {"yes", "no"}
    assert service.metric("model_input_missing_fraction_sum") >= 1.0  # the blank row


def test_malformed_requests_get_their_status_codes(service: Service) -> None:
    row = service.example_row()
    columns = service.json("GET", "/model")[1]["columns"]
    name = next(column["name"] for column in columns if column["type"] == "double")
    cases: list[tuple[Any, int]] = [
        ({k: v for k, v in row.items() if k != name}, 400),
        ({**row, name: "text"}, 400),
        ([], 400),
        ([row] * 1001, 400),
    ]
    for payload, expected in cases:
        status, answer = service.json("POST", "/predict", payload)
        assert status == expected, answer
        assert answer["problems"], answer

    not_finite = json.dumps({**row, name: float("nan")}).encode()
    json_header = {"Content-Type": "application/json"}
    assert service.request("POST", "/predict", not_finite, json_header)[0] == 400
    assert service.request("POST", "/predict", b"{", json_header)[0] == 400
    too_large = b"[" + b" " * 2_000_000 + b"]"
    assert service.request("POST", "/predict", too_large, json_header)[0] == 413
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert service.request("POST", "/predict", b"a=1", form)[0] == 415
    status, raw = service.request("GET", "/no/such/route")
    assert status == 404
    assert json.loads(raw)["error"]


def test_batches_in_both_shapes_on_one_kept_alive_connection(service: Service) -> None:
    row = service.example_row()
    names = list(row)
    records = json.dumps([row] * 1000).encode()
    split = json.dumps({"columns": names, "data": [[row[name] for name in names]] * 1000})
    single = service.json("POST", "/predict", row)[1]["predictions"]
    connection = http.client.HTTPConnection(HOST, service.port, timeout=30)
    answers = []
    for body in [records, split.encode()] * 2:  # each body read whole, the next one intact
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.status, json.loads(response.read())["predictions"]))
    connection.close()

    assert answers == [(200, single * 1000)] * 4


def test_a_body_shorter_than_its_content_length_gets_400(service: Service) -> None:
    row = service.example_row()
    body = json.dumps([row] * 100).encode()
    head = (
        "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((HOST, service.port), timeout=30) as sock:
        sock.sendall(head.encode() + body[:1000])
        sock.shutdown(socket.SHUT_WR)  # the client gives up half way
        reply = sock.makefile("rb").read()

    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert f"after 1000 of the {len(body)} bytes".encode() in reply
    assert service.request("GET", "/health")[0] == 200


def make_drift(project: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "drift", f"DATA={data}"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _client(service: Service, body: bytes, count: int, statuses: Counter[int]) -> None:
    headers = {"Content-Type": "application/json"}
    connection = http.client.HTTPConnection(HOST, service.port, timeout=30)
    seen: Counter[int] = Counter()
    for _ in range(count):
        try:
            connection.request("POST", "/predict", body, headers)
            response = connection.getresponse()
            response.read()
            seen[response.status] += 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            seen[-1] += 1
            connection.close()
    connection.close()
    statuses.update(seen)


def test_ten_thousand_concurrent_requests_without_errors(service: Service) -> None:
    example = service.json("GET", "/model")[1]["input_example"]
    ok = 'endpoint="/predict",status="200"'
    before = {
        "ok": service.metric("model_requests_total", ok),
        "rows": service.metric("model_rows_predicted_total"),
        "latency": service.metric("model_request_latency_seconds_count", 'endpoint="/predict"'),
    }
    statuses: Counter[int] = Counter()
    per_thread = LOAD_REQUESTS // LOAD_THREADS
    threads = [
        threading.Thread(
            target=_client, args=(service, json.dumps(example).encode(), per_thread, statuses)
        )
        for _ in range(LOAD_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)

    sent = per_thread * LOAD_THREADS
    assert statuses == Counter({200: sent})
    assert service.metric("model_requests_total", ok) - before["ok"] == sent
    assert service.metric("model_rows_predicted_total") - before["rows"] == sent
    latency = service.metric("model_request_latency_seconds_count", 'endpoint="/predict"')
    assert latency - before["latency"] == sent


def test_drift_report_on_the_training_data_and_on_a_shifted_copy(project: Path) -> None:
    train = next((project / "data" / "experiment").glob("*/train.parquet"))
    shift = (
        "import pandas as pd, sys; f = pd.read_parquet(sys.argv[1]); "
        "f[f.select_dtypes('number').columns] *= 3; f.to_csv(sys.argv[2], index=False)"
    )
    shifted = project / "shifted.csv"
    run(["poetry", "run", "python", "-c", shift, str(train), str(shifted)], project)

    same = make_drift(project, train)
    moved = make_drift(project, shifted)

    assert same.returncode == 0, same.stdout + same.stderr
    assert re.search(r"^0 of \d+ features drifted", same.stdout, re.MULTILINE), same.stdout
    assert moved.returncode == 2  # make's own status when its command fails ...
    assert "Error 3" in moved.stderr  # ... and the drift command's: 3, drift found
    assert "DRIFT " in moved.stdout
    report = json.loads((project / "results" / "drift" / "drift.json").read_text())
    assert report["drift"] is True
    assert (project / "results" / "drift" / "drift.html").is_file()
