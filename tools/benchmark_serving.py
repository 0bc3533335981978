"""Benchmark the generated prediction service against MLflow's and Seldon's servers.

Bakes the default project (or reuses one given with ``--project``), runs its
pipeline, then serves the same champion model four ways on 127.0.0.1, each with
the same number of workers: our service (`make serve`, gunicorn), MLflow's own
scoring server (`mlflow models serve --env-manager local`), and Seldon MLServer
with its MLflow runtime (what KServe runs for MLflow models) with and without
adaptive batching. wrk (Debian package `wrk`) sends single-row requests over 8
and 32 keep-alive connections, the servers taking turns in rounds; each run also
records the CPU the server's processes spent, and how much of it the busiest
process did, our model process left out (one gunicorn worker doing everything
is the bimodal case). Then a
1000-row batch, sent as records and in pandas' split orientation, is timed
against the bare model's ``predict`` on the same rows, in short rounds whose
ratios pair figures taken seconds apart. It prints figures and ratios; it
asserts nothing.

    python -m tools.benchmark_serving [--project PATH] [--rounds 8] [--seconds 6]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from tools.mlserver import MODEL, mlserver_venv, v2_body, v2_predictions, write_settings
from tools.project import bake, default_package_index_url, make, project_env, run
from tools.servers import HOST, free_port, group_cpu_seconds, ready_in_a_row, stop_process_group
from tools.wrk import WrkResult, run_wrk

BATCH_ROWS = 1000
WARM_UP = 3  # untimed calls before each run of timed ones, so that each is timed warm

# The bare model in a process of its own: each line read is a number of predicts to
# time back to back; it answers with their times (seconds) as a JSON list.
BARE_PREDICT = """
import json, sys, time
import mlflow, pandas as pd
from {package}.tracking import resolve_tracking_uri
from {package}.metadata import load_metadata
mlflow.set_tracking_uri(resolve_tracking_uri(load_metadata()))
model = mlflow.sklearn.load_model(sys.argv[1])
rows = pd.read_json(sys.argv[2], orient="records")
model.predict(rows)
print("ready", flush=True)
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        started = time.perf_counter()
        model.predict(rows)
        times.append(time.perf_counter() - started)
    print(json.dumps(times), flush=True)
"""


def request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """One request on a fresh connection: status, body and headers (names in lower case)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@contextmanager
def server(
    command: Sequence[str], project: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in its own process group; stop the whole group afterwards."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            cwd=project,
            env=project_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        except RuntimeError:
            log.seek(0)
            print(log.read().decode(errors="replace")[-3000:])
            raise
        finally:
            stop_process_group(process, timeout=60)


def timed_post(port: int, path: str, body: bytes) -> dict[str, float]:
    """One POST's times in seconds.

    ``client`` is the whole request as the client sees it; the others come from the
    service's ``Server-Timing`` header: ``app`` is its own time for the request, and
    ``parse`` and ``model`` are the parts of it.
    """
    started = time.perf_counter()
    status, raw, headers = request(port, "POST", path, body)
    times = {"client": time.perf_counter() - started}
    if status != 200:
        raise RuntimeError(f"batch request failed with {status}: {raw[:500]!r}")
    for metric in headers["server-timing"].split(", "):
        step, milliseconds = metric.split(";dur=")
        times[step] = float(milliseconds) / 1000
    return times


@contextmanager
def bare_model(
    project: Path, package: str, uri: str, rows_file: Path, env: dict[str, str]
) -> Iterator[Callable[[int], list[float]]]:
    """A function that times ``n`` bare ``model.predict`` calls on the rows in ``rows_file``."""
    command = ["poetry", "run", "python", "-c", BARE_PREDICT.format(package=package)]
    process = subprocess.Popen(
        [*command, uri, str(rows_file.resolve())],
        cwd=project,
        env=project_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def predict(n: int) -> list[float]:
        stdin.write(f"{n}\n")
        stdin.flush()
        times: list[float] = json.loads(stdout.readline())
        return times

    try:
        if stdout.readline().strip() != "ready":
            raise RuntimeError("the bare model did not load; see the error above")
        yield predict
    finally:
        stdin.close()
        process.wait(timeout=60)


@dataclass(frozen=True)
class BatchFigures:
    """Times of one batch body, and its service time over the bare predict's."""

    medians: dict[str, float]  # seconds: client, app, parse, model
    ratios: list[float]  # per round: the body's median app time / the bare median

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios."""
        return statistics.median(self.ratios)


def batch_figures(
    port: int,
    bodies: dict[str, bytes],
    bare: Callable[[int], list[float]],
    rounds: int,
    per_round: int,
) -> tuple[dict[str, BatchFigures], float]:
    """Each body's figures, and the median bare predict time in seconds.

    Every round times ``per_round`` requests of each body and as many bare predicts,
    each series back to back after ``WARM_UP`` untimed calls, so every figure is that
    of a warm process; the series take turns at going first. A round's ratio pairs
    a body with the bare predict timed seconds apart, so a change in the machine's
    speed between rounds (up to 1.7x within the hour here) falls on both sides.
    """
    series: list[str | None] = [*bodies, None]  # None: the bare predict
    times: dict[str, dict[str, list[float]]] = {shape: {} for shape in bodies}
    ratios: dict[str, list[float]] = {shape: [] for shape in bodies}
    bare_times: list[float] = []
    for number in range(rounds):
        turn = number % len(series)
        round_app: dict[str, float] = {}
        round_bare = 0.0
        for shape in series[turn:] + series[:turn]:
            if shape is None:
                timed_bare = bare(WARM_UP + per_round)[WARM_UP:]
                bare_times += timed_bare
                round_bare = statistics.median(timed_bare)
                continue
            apps = []
            for call in range(WARM_UP + per_round):
                timed = timed_post(port, "/predict", bodies[shape])
                if call < WARM_UP:
                    continue
                apps.append(timed["app"])
                for step, seconds in timed.items():
                    times[shape].setdefault(step, []).append(seconds)
            round_app[shape] = statistics.median(apps)
        for shape, app in round_app.items():
            ratios[shape].append(app / round_bare)
    figures = {
        shape: BatchFigures(
            {step: statistics.median(values) for step, values in times[shape].items()},
            ratios[shape],
        )
        for shape in bodies
    }
    return figures, statistics.median(bare_times)


def prepared_project(output: Path, existing: Path | None) -> Path:
    """A baked, installed project whose pipeline has registered a champion."""
    if existing is not None:
        return existing
    folder = output / "project"  # a fresh bake each run, so the current template is measured
    if folder.exists():
        print(f"Removing the project of an earlier run: {folder}", flush=True)
        shutil.rmtree(folder)
    project = bake(folder, {"package_index_url": default_package_index_url()})
    make(project, "install")
    make(project, "pipeline", timeout=1800)
    return project


SERVERS = ("ours", "mlflow", "mlserver-batching", "mlserver")
NAMES = {
    "ours": "our service (gunicorn)",
    "mlflow": "mlflow models serve",
    "mlserver-batching": "MLServer, batching",
    "mlserver": "MLServer, no batching",
}
BIMODAL_SHARE = 0.8  # one process doing this much of a server's work: one worker took it all
# Our service's model process does every worker's model calls, by design: the spread
# that counts is over the processes that answer connections, so it is left out.
MODEL_PROCESS = ".serving.model_process"


@dataclass(frozen=True)
class Endpoint:
    """Where a server takes single-row predictions, the body it takes, and its process group."""

    port: int
    path: str
    body: bytes
    pgid: int

    @property
    def url(self) -> str:
        """The address wrk loads."""
        return f"http://{HOST}:{self.port}{self.path}"

    def answer(self) -> Any:
        """The server's parsed answer to the body."""
        return json.loads(request(self.port, "POST", self.path, self.body)[1])


@dataclass(frozen=True)
class Run:
    """One wrk run against one server, with the CPU its processes spent meanwhile."""

    wrk: WrkResult
    cpu_seconds: float
    busiest_share: float  # of that CPU, the busiest process's share (model process left out)

    @property
    def cpu_per_request(self) -> float:
        """CPU seconds per answered request."""
        return self.cpu_seconds / max(self.wrk.requests, 1)


def _is_model_process(pid: int) -> bool:
    try:
        return MODEL_PROCESS in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:  # ended meanwhile
        return False


def measured_run(endpoint: Endpoint, connections: int, seconds: int) -> Run:
    """wrk against ``endpoint``, and the CPU its process group used meanwhile."""
    before = group_cpu_seconds(endpoint.pgid)
    result = run_wrk(endpoint.url, endpoint.body, connections, seconds)
    after = group_cpu_seconds(endpoint.pgid)
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    answering = [cpu for pid, cpu in spent.items() if not _is_model_process(pid)]
    busiest = max(answering) / sum(answering) if sum(answering) else 0.0
    return Run(result, sum(spent.values()), busiest)


def rounds_of_load(
    endpoints: dict[str, Endpoint], connections: Sequence[int], rounds: int, seconds: int
) -> dict[tuple[str, int], list[Run]]:
    """Every server at every concurrency, ``rounds`` times, the servers taking turns.

    All servers run throughout (each idle while another is measured); a round
    starts with a different server each time, so a slow spell of the machine falls
    on all of them alike.
    """
    runs: dict[tuple[str, int], list[Run]] = {}
    names = list(endpoints)
    for number in range(rounds):
        order = names[number % len(names) :] + names[: number % len(names)]
        for count in connections:
            for name in order:
                run = measured_run(endpoints[name], count, seconds)
                runs.setdefault((name, count), []).append(run)
        print(f"  round {number + 1}/{rounds} done", flush=True)
    return runs


def describe(name: str, runs: list[Run]) -> str:
    """One line of the single-row table: medians over the rounds, and the spread of req/s."""
    rates = [run.wrk.rate for run in runs]
    p50 = statistics.median(run.wrk.p50 for run in runs) * 1000
    p99 = statistics.median(run.wrk.p99 for run in runs) * 1000
    cpu = statistics.median(run.cpu_per_request for run in runs) * 1000
    errors = sum(run.wrk.errors for run in runs)
    bimodal = sum(run.busiest_share >= BIMODAL_SHARE for run in runs)
    return (
        f"  {NAMES[name]:<24} {statistics.median(rates):>7.0f} req/s ({min(rates):.0f}-"
        f"{max(rates):.0f})  p50 {p50:>6.1f} ms  p99 {p99:>6.1f} ms  CPU {cpu:.2f} ms/req"
        f"  busiest process >= {BIMODAL_SHARE:.0%}: {bimodal}/{len(runs)}  errors {errors}"
    )


def ratio_lines(runs: dict[tuple[str, int], list[Run]], count: int) -> list[str]:
    """Ours against MLServer with batching at ``count`` connections, with the targets."""

    def median(name: str, figure: str) -> float:
        values: list[float] = [attrgetter(figure)(run) for run in runs[(name, count)]]
        return statistics.median(values)

    rate, p99, cpu = "wrk.rate", "wrk.p99", "cpu_per_request"
    other = "mlserver-batching"
    return [
        f"  ours/MLServer-batching req/s:    {median('ours', rate) / median(other, rate):.2f}"
        "  (target >= 1.2)",
        f"  ours/MLServer-batching p99:      {median('ours', p99) / median(other, p99):.2f}"
        "  (target <= 0.8)",
        f"  ours/MLServer-batching CPU/req:  {median('ours', cpu) / median(other, cpu):.2f}"
        "  (target <= 1.0)",
        f"  ours/mlflow req/s:               {median('ours', rate) / median('mlflow', rate):.2f}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--project", type=Path, help="a baked project with a champion model")
    parser.add_argument("--output", type=Path, default=Path("build/benchmark-serving"))
    parser.add_argument("--rounds", type=int, default=8, help="single-row rounds")
    parser.add_argument("--seconds", type=int, default=6, help="per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-rounds", type=int, default=12)
    parser.add_argument("--batch-repeats", type=int, default=5, help="per round")
    args = parser.parse_args(argv)

    args.output.mkdir(parents=True, exist_ok=True)
    project = prepared_project(args.output, args.project)
    package = project.name.replace("-", "_")
    tracking_uri = run(
        ["poetry", "run", "python", "-m", f"{package}.tracking"], project
    ).stdout.strip()
    env = {"MLFLOW_TRACKING_URI": tracking_uri, "WORKERS": str(args.workers), "HOST": HOST}
    mlserver = mlserver_venv(args.output / "mlserver-venv", project)

    with ExitStack() as stack:
        ours_port, mlflow_port = free_port(), free_port()
        ours = stack.enter_context(
            server(
                ["make", "--no-print-directory", "serve"], project, {**env, "PORT": str(ours_port)}
            )
        )
        ready_in_a_row(ours_port, "/ready", ours, timeout=600)
        card = json.loads(request(ours_port, "GET", "/model")[1])
        uri, example = str(card["uri"]), list(card["input_example"])  # the configured champion
        model_path = args.output / "champion"
        shutil.rmtree(model_path, ignore_errors=True)
        target = str(model_path.resolve())
        download = (
            f"import mlflow; mlflow.artifacts.download_artifacts({uri!r}, dst_path={target!r})"
        )
        run(["poetry", "run", "python", "-c", download], project, env=env)
        mlflow_command = [
            "poetry", "run", "mlflow", "models", "serve", "--env-manager", "local", "-m", uri,
            "-h", HOST, "-p", str(mlflow_port), "--workers", str(args.workers),
        ]  # fmt: skip
        theirs = stack.enter_context(server(mlflow_command, project, env))
        mlservers = {}
        for name, batching in (("mlserver-batching", True), ("mlserver", False)):
            ports = (free_port(), free_port(), free_port())
            folder = write_settings(
                args.output / name, model_path, workers=args.workers, ports=ports, batching=batching
            )
            process = stack.enter_context(
                server([str(mlserver), "start", str(folder.resolve())], project, {})
            )
            mlservers[name] = (process, ports[0])
        ready_in_a_row(mlflow_port, "/ping", theirs, timeout=600)
        for process, port in mlservers.values():
            ready_in_a_row(port, f"/v2/models/{MODEL}/ready", process, timeout=600)

        ours_body = json.dumps(example).encode()
        mlflow_body = json.dumps({"dataframe_records": example}).encode()
        v2 = json.dumps(v2_body(example)).encode()
        endpoints = {
            "ours": Endpoint(ours_port, "/predict", ours_body, ours.pid),
            "mlflow": Endpoint(mlflow_port, "/invocations", mlflow_body, theirs.pid),
            **{
                name: Endpoint(port, f"/v2/models/{MODEL}/infer", v2, process.pid)
                for name, (process, port) in mlservers.items()
            },
        }
        answers = {
            "ours": endpoints["ours"].answer()["predictions"],
            "mlflow": endpoints["mlflow"].answer()["predictions"],
            **{name: v2_predictions(endpoints[name].answer()) for name in mlservers},
        }
        print(f"The example row's prediction from each server: {answers}", flush=True)
        print(
            f"Single-row load: {args.rounds} rounds of {args.seconds:g} s per server and"
            f" concurrency ({', '.join(map(str, args.connections))} connections)",
            flush=True,
        )
        runs = rounds_of_load(endpoints, args.connections, args.rounds, args.seconds)

        rows = example * BATCH_ROWS
        names = list(example[0])
        split = {"columns": names, "data": [[row[name] for name in names] for row in rows]}
        bodies = {"records": json.dumps(rows).encode(), "split": json.dumps(split).encode()}
        rows_file = args.output / "batch_rows.json"
        rows_file.write_bytes(bodies["records"])
        bare_env = {"MLFLOW_TRACKING_URI": tracking_uri}
        with bare_model(project, package, uri, rows_file, bare_env) as bare:
            batches, bare_batch = batch_figures(
                ours_port, bodies, bare, args.batch_rounds, args.batch_repeats
            )

    print(f"\nSingle-row requests, wrk ({args.seconds:g} s runs, {args.rounds} rounds, medians),")
    print(f"{args.workers} workers each, model {uri}, on {os.cpu_count()} CPU(s)")
    for count in args.connections:
        print(f" {count} keep-alive connections:")
        for name in SERVERS:
            print(describe(name, runs[(name, count)]))
        print("\n".join(ratio_lines(runs, count)))
    same = all(answer == answers["ours"] for answer in answers.values())
    print(f"  the example's prediction is the same from every server: {same}")
    print(
        f"\n{BATCH_ROWS}-row batch ({args.batch_rounds} rounds of {args.batch_repeats} calls"
        " of each series; medians):"
    )
    print(f"  bare model.predict:           {bare_batch * 1000:8.1f} ms")
    for shape, figures in batches.items():
        size = len(bodies[shape]) / 1000
        seconds = figures.medians
        parts = ", ".join(f"{step} {seconds[step] * 1000:.1f}" for step in ("parse", "model"))
        spread = f"{min(figures.ratios):.2f}-{max(figures.ratios):.2f}"
        print(f"  {shape} body ({size:.0f} kB):")
        print(f"    service's own time:         {seconds['app'] * 1000:8.1f} ms  (Server-Timing)")
        print(f"      of which (ms):            {parts}")
        print(f"    whole request:              {seconds['client'] * 1000:8.1f} ms  (client side)")
        print(f"    ratio whole request/bare:   {seconds['client'] / bare_batch:.2f}")
        print(f"    ratio service time/bare:    {seconds['app'] / bare_batch:.2f}  (medians)")
        print(
            f"    the same, paired by round:  {figures.ratio:.2f}  (median; rounds {spread})"
            "  (target <= 1.5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
