"""Slow tier: the generated service under real gunicorn, with the pipeline's champion model.

Bakes the default project, installs it, runs `make pipeline`, starts `make serve`
on 127.0.0.1 (a free port, two workers) and talks HTTP to it. The monitoring loop
comes first, while the prediction log holds only its batches: a clean and a shifted
batch checked by `make monitor`, Prometheus firing the missing-input alert, a worker
killed under load. Then the model's own input example, malformed requests, and
10 000 requests from concurrent clients.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.checks import bake_for_e2e
from tests.servers import start_prometheus
from tools.project import install, make, project_env, run
from tools.servers import HOST, free_port, ready_in_a_row, stop_process_group

pytestmark = pytest.mark.e2e

WORKERS = 2
LOAD_REQUESTS = 10_000
LOAD_THREADS = 16
READY_TIMEOUT = 300.0
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Service:
    port: int
    log: Path
    pid: int  # of the process group: make, poetry, the gunicorn master and workers

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
    # The service is under test here, not the model: a logistic regression predicts
    # a row in well under a millisecond, where the default random forest spends
    # 20-40 ms of CPU, so the load tests spend their time in the service.
    config = root / "conf/config.yaml"
    text = config.read_text()
    assert text.count("  - model: random_forest\n") == 1
    config.write_text(
        text.replace("  - model: random_forest\n", "  - model: logistic_regression\n")
    )
    install(root)
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
        running = Service(port, log, process.pid)
        try:
            ready_in_a_row(port, "/ready", process, timeout=READY_TIMEOUT)
        except RuntimeError as error:
            pytest.fail(f"{error}:\n{log.read_text(errors='replace')[-3000:]}")
        yield running
    finally:
        stop_process_group(process, timeout=60)


# Run in the project: two batches of model inputs from the training set, as JSON
# records (dates as ISO text); the second with one numeric feature shifted by two
# standard deviations and a fifth of all values blanked.
BATCHES_SCRIPT = """
import json, pathlib, sys
import numpy as np, pandas as pd
folder = next(pathlib.Path("data/experiment").glob("*/dataset.json")).parent
features = json.loads((folder / "dataset.json").read_text())["features"]
rows = pd.read_parquet(folder / "train.parquet")[list(features)].sample(n=600, random_state=1)
for name, kind in features.items():
    if kind == "date":
        rows[name] = rows[name].dt.strftime("%Y-%m-%dT%H:%M:%S")
numeric = [name for name, kind in features.items() if kind == "numeric"]
shifted_column = max(numeric, key=lambda name: rows[name].nunique())
shifted = rows.copy()
shifted[shifted_column] = shifted[shifted_column] + 2 * rows[shifted_column].std()
blank = np.random.default_rng(2).random(shifted.shape) < 0.2
shifted = shifted.astype(object).mask(blank)
def records(frame):
    return json.loads(frame.to_json(orient="records"))
out = pathlib.Path(sys.argv[1])
(out / "clean.json").write_text(json.dumps(records(rows)))
(out / "shifted.json").write_text(json.dumps(records(shifted)))
print(shifted_column)
"""
CHUNK_ROWS = 50
PROMETHEUS_CONFIG = """
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
scrape_configs:
  - job_name: model-service
    static_configs: [{{targets: ["{target}"]}}]
"""


@dataclass(frozen=True)
class Batches:
    """BATCHES_SCRIPT's batches, as JSON records, and the column it shifted."""

    clean: list[dict[str, Any]]
    shifted: list[dict[str, Any]]
    shifted_column: str


@pytest.fixture(scope="module")
def batches(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Batches:
    folder = tmp_path_factory.mktemp("batches")
    command = ["poetry", "run", "python", "-c", BATCHES_SCRIPT, str(folder)]
    shifted_column = run(command, project).stdout.strip()
    return Batches(
        json.loads((folder / "clean.json").read_text()),
        json.loads((folder / "shifted.json").read_text()),
        shifted_column,
    )


def post_batch(service: Service, rows: list[dict[str, Any]], name: str) -> list[str]:
    """POST the rows in requests of CHUNK_ROWS, each with its own request id; return the ids."""
    ids = []
    for start in range(0, len(rows), CHUNK_ROWS):
        request_id = f"{name}-{start}"
        body = json.dumps(rows[start : start + CHUNK_ROWS]).encode()
        headers = {"Content-Type": "application/json", "X-Request-ID": request_id}
        status, reply = service.request("POST", "/predict", body, headers)
        assert status == 200, reply[:500]
        ids.append(request_id)
    return ids


def make_monitor(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "monitor"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def monitor_report(project: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((project / "results/monitor/monitor.json").read_text())
    return report


def test_the_monitor_finds_the_shift_and_the_gaps_in_the_prediction_log(
    project: Path, service: Service, batches: Batches
) -> None:
    clean, shifted = batches.clean, batches.shifted

    post_batch(service, clean, "clean")
    healthy = make_monitor(project)
    after_clean = monitor_report(project)
    post_batch(service, shifted, "shifted")
    alarmed = make_monitor(project)
    after_shift = monitor_report(project)

    # Training rows: no input may raise an alarm (their predictions are in-sample, while
    # the reference's are on the test set, so the prediction column is not judged here).
    assert healthy.returncode == 0, healthy.stderr
    assert [a for a in after_clean["alarms"] if a["column"] != "prediction"] == [], healthy.stdout
    assert after_clean["batch"]["rows"] >= len(clean)
    assert alarmed.returncode == 0, alarmed.stderr  # make prints the verdict, no "Error 3"
    assert alarmed.stdout.startswith("Alarm:") and "Error" not in alarmed.stderr
    assert after_shift["status"] == "alarm"
    assert after_shift["batch"]["rows"] == after_clean["batch"]["rows"] + len(shifted)
    raised = {(alarm["column"], alarm["check"]) for alarm in after_shift["alarms"]}
    assert (batches.shifted_column, "drift") in raised
    assert {check for _, check in raised} >= {"drift", "missing"}
    assert (project / "results/monitor/monitor.html").read_text().count("<svg") >= 2


def test_prometheus_fires_the_missing_input_alert(
    project: Path, service: Service, batches: Batches, tmp_path: Path
) -> None:
    # The project's rules, with `for:` set to zero so the test need not wait minutes.
    rules = (project / "deploy/monitoring/prometheus/alerts.yml").read_text()
    (tmp_path / "alerts.yml").write_text(re.sub(r"for: \d+m", "for: 0s", rules))
    config = tmp_path / "prometheus.yml"
    target = f"{HOST}:{service.port}"
    config.write_text(PROMETHEUS_CONFIG.format(rules=tmp_path / "alerts.yml", target=target))
    prometheus = start_prometheus(config, tmp_path)
    try:
        time.sleep(3)  # a few scrapes before the gaps arrive
        firing: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "ModelInputsMissing" not in firing:
            post_batch(service, batches.shifted[:200], "gaps")
            time.sleep(2)
            firing = [
                alert["labels"]["alertname"]
                for alert in prometheus.alerts()
                if alert["state"] == "firing"
            ]
    finally:
        prometheus.stop()

    assert "ModelInputsMissing" in firing, prometheus.server.output()[-2000:]
    assert "ModelErrorRate" not in firing and "ModelServiceDown" not in firing


def service_processes(service_pid: int) -> dict[int, tuple[int, str]]:
    """The processes of the service started as ``service_pid``'s group: parent and command."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == service_pid and fields[0] != "Z":
                processes[int(entry.name)] = (int(fields[1]), command)
    return processes


def gunicorn_workers(service_pid: int) -> list[int]:
    """The gunicorn worker processes of the service started as ``service_pid``'s group."""
    processes = service_processes(service_pid)
    gunicorns = {pid for pid, (_, command) in processes.items() if "gunicorn" in command}
    return sorted(pid for pid in gunicorns if processes[pid][0] in gunicorns)


def test_a_killed_worker_leaves_every_answered_request_logged_once(
    project: Path, service: Service
) -> None:
    example = service.json("GET", "/model")[1]["input_example"]
    answered: list[str] = []
    lock = threading.Lock()

    def client(name: str) -> None:
        for index in range(150):
            request_id = f"kill-{name}-{index}"
            try:
                status, _ = service.request(
                    "POST",
                    "/predict",
                    json.dumps(example).encode(),
                    {"Content-Type": "application/json", "X-Request-ID": request_id},
                )
            except (OSError, http.client.HTTPException):
                continue
            if status == 200:
                with lock:
                    answered.append(request_id)

    threads = [threading.Thread(target=client, args=(str(n),)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(answered) < 100 and time.monotonic() < deadline:  # the load is under way
        time.sleep(0.05)
    victim = gunicorn_workers(service.pid)[0]
    os.kill(victim, signal.SIGKILL)
    answered_at_kill = len(answered)
    for thread in threads:
        thread.join(timeout=300)

    records = []
    for path in next((project / "monitoring/predictions").iterdir()).glob("*.jsonl*"):
        complete, _, cut = path.read_bytes().rpartition(b"\n")
        records += [json.loads(line) for line in complete.split(b"\n") if line]
        # Only the killed worker's file may end in a line cut mid-write.
        assert not cut or f"-{victim}-" in path.name, (path.name, cut[:200])
    killed = [r["request_id"] for r in records if r["request_id"].startswith("kill-")]
    assert answered_at_kill < 600 and len(answered) > answered_at_kill + 100  # went on after
    assert sorted(set(answered) - set(killed)) == []  # every answered request is logged
    assert len(killed) == len(set(killed))  # and none twice


def tcp_sockets(port: int, state: str) -> set[int]:
    """The inodes of the sockets on 127.0.0.1:``port`` in ``state`` (``/proc/net/tcp``)."""
    rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    local = f"0100007F:{port:04X}"
    return {int(row[9]) for row in rows if row[1] == local and row[3] == state}


def held_by(pid: int, inodes: set[int]) -> int:
    """How many of the socket ``inodes`` process ``pid`` has open."""
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        held += target.startswith("socket:[") and int(target[8:-1]) in inodes
    return held


def test_the_workers_share_one_socket_and_its_connections_evenly(service: Service) -> None:
    connections = []
    for _ in range(4 * WORKERS):  # opened one after another, each answered, and kept open
        connection = http.client.HTTPConnection(HOST, service.port, timeout=30)
        connection.request("GET", "/health")
        assert connection.getresponse().read()
        connections.append(connection)
        time.sleep(0.05)  # past every worker's turn (at most 10 ms: serving/accepts.py)
    established = tcp_sockets(service.port, "01")  # the service's ends of the connections

    held = [held_by(pid, established) for pid in gunicorn_workers(service.pid)]
    for connection in connections:
        connection.close()

    # One listening socket, the workers taking its connections in turns: the least busy first.
    assert len(tcp_sockets(service.port, "0A")) == 1
    assert held == [4] * WORKERS


def test_a_second_service_on_the_port_is_refused(project: Path, service: Service) -> None:
    second = run(
        ["make", "--no-print-directory", "serve"],
        project,
        env={"PORT": str(service.port), "HOST": HOST, "WORKERS": "1"},
        check=False,
        timeout=120,
    )

    assert second.returncode != 0
    assert (
        f"Port {HOST}:{service.port} is in use by another program" in second.stdout + second.stderr
    )
    assert service.json("GET", "/health")[0] == 200


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
    status, raw = service.request("GET", "/" + "a" * 5000)  # refused by gunicorn itself
    assert status == 414
    assert "limit_request_line" in json.loads(raw)["error"]
    assert service.metric("model_requests_total", 'endpoint="<unread>",status="414"') == 1


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


def test_a_body_cut_short_is_logged_as_400_and_the_service_stays_up(service: Service) -> None:
    row = service.example_row()
    body = json.dumps([row] * 100).encode()
    head = (
        "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: cut-short\r\n\r\n"
    )
    with socket.create_connection((HOST, service.port), timeout=30) as sock:
        sock.sendall(head.encode() + body[:1000])
        sock.shutdown(socket.SHUT_WR)  # the client gives up half way
        reply = sock.makefile("rb").read()

    assert reply == b""  # the server closes a connection its client closed
    assert service.request("GET", "/health")[0] == 200
    logged = _logged_requests(service, "cut-short", 1)
    assert [(entry["path"], entry["status"]) for entry in logged] == [("/predict", 400)]


def _logged_requests(service: Service, id_prefix: str, count: int) -> list[dict[str, Any]]:
    """The service log's entries of the requests whose id starts with ``id_prefix``, once
    ``count`` of them are there, or after 30 s: a worker logs a request its client left
    once it has seen the hang-up. Lines still mid-write are left out."""
    deadline = time.monotonic() + 30
    while True:
        text = service.log.read_bytes().decode(errors="replace")
        entries = [
            json.loads(line)
            for line in text.splitlines()
            if line.startswith("{") and line.endswith("}") and f'"{id_prefix}' in line
        ]
        logged = [e for e in entries if str(e.get("request_id", "")).startswith(id_prefix)]
        if len(logged) >= count or time.monotonic() > deadline:
            return logged
        time.sleep(0.2)


def test_a_chunked_body_over_the_limit_gets_413(service: Service) -> None:
    row = json.dumps(service.example_row()).encode()
    connection = http.client.HTTPConnection(HOST, service.port, timeout=30)
    rows = (row + b"," for _ in range(2_000_000 // len(row)))  # 2 MB, over the 1 MiB limit
    body = itertools.chain([b"["], rows, [row + b"]"])
    connection.request(
        "POST", "/predict", body, {"Content-Type": "application/json"}, encode_chunked=True
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()

    assert response.status == 413, answer
    assert "larger than the limit of 1048576 bytes" in answer["error"]
    assert service.request("GET", "/health")[0] == 200


STALLED = 20  # connections that send part of their headers or body, then a byte now and then
SILENT = 200  # connections that send nothing


def _hold_slow_clients(service: Service, stop: threading.Event) -> list[socket.socket]:
    """Open the stalled and silent connections; threads keep the stalled ones trickling."""
    headers_never_finish = b"POST /predict HTTP/1.1\r\nHost: test\r\nX-Slow: "
    body_never_finishes = (
        "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\nX-Request-ID: slow-body-{}\r\n\r\n["
    )
    heads = [
        body_never_finishes.format(index).encode() if index % 2 else headers_never_finish
        for index in range(STALLED)
    ]
    sockets = [socket.create_connection((HOST, service.port)) for _ in range(STALLED + SILENT)]

    def trickle(sock: socket.socket, head: bytes) -> None:
        try:
            sock.sendall(head)
            while not stop.wait(1.0):
                sock.sendall(b" ")
        except OSError:
            return  # the server closed it: allowed

    for sock, head in zip(sockets[:STALLED], heads, strict=True):
        threading.Thread(target=trickle, args=(sock, head), daemon=True).start()
    return sockets


def test_slow_and_silent_clients_do_not_stop_the_service(service: Service) -> None:
    body = json.dumps(service.json("GET", "/model")[1]["input_example"]).encode()
    stop = threading.Event()
    sockets = _hold_slow_clients(service, stop)
    try:
        time.sleep(2)  # every slow connection is in place
        latencies, statuses = [], []
        for _ in range(60):
            started = time.perf_counter()
            statuses.append(service.request("POST", "/predict", body, JSON)[0])
            latencies.append(time.perf_counter() - started)
    finally:
        stop.set()
        for sock in sockets:
            sock.close()

    assert statuses == [200] * 60
    # Each unfinished body is logged (cut short, 400; or timed out, 408): waited for
    # here, so the next test's counts start clean.
    logged = _logged_requests(service, "slow-body-", STALLED // 2)
    assert len(logged) == STALLED // 2, logged
    assert {entry["status"] for entry in logged} <= {400, 408}, logged
    latencies.sort()
    print(f"p50 {latencies[30] * 1000:.0f} ms, p99 {latencies[-1] * 1000:.0f} ms")
    # Held threads would make requests wait for the 30 s client time-out; a loaded
    # machine makes a request slow, not that slow.
    assert latencies[-1] < 10


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


def test_a_killed_model_process_stops_the_service_with_a_failure(service: Service) -> None:
    """Last in the module: it ends the service. Without the model process no worker
    can predict, so the service stops with exit status 1, for whatever runs it to
    start it again."""
    (model_process,) = [
        pid
        for pid, (_, command) in service_processes(service.pid).items()
        if "serving.model_process" in command
    ]

    os.kill(model_process, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and service_processes(service.pid):
        time.sleep(0.2)

    log = service.log.read_text(errors="replace")
    assert not service_processes(service.pid), log[-3000:]
    assert "the model process stopped: stopping the service" in log
    assert "The model process ended unasked" in log
    assert "serve] Error 1" in log  # make's report of gunicorn's exit status
