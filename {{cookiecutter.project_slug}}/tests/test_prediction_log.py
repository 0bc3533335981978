"""The prediction log: whole lines, one file per process, rotation, and reading it back."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.dataset import ColumnType
from {{ cookiecutter.package_name }}.prediction_log import (
    CLOSED_SUFFIX,
    OPEN_SUFFIX,
    LogSettings,
    PredictionLog,
    frame_records,
    log_files,
    read_logs,
)

ROWS = [
    {"plan": "basic", "fee": 12.5, "signup": "2026-01-02T00:00:00", "calls": 3},
    {"plan": None, "fee": float("nan"), "signup": pd.Timestamp("2026-02-03"), "calls": np.int64(0)},
]

COLUMNS: dict[str, ColumnType] = {
    "plan": "categorical",
    "fee": "numeric",
    "signup": "date",
    "calls": "numeric",
}


def new_log(folder: Path, **settings: float) -> PredictionLog:
    return PredictionLog(LogSettings(folder, **settings), "shop-churn", "4", "run-1")  # type: ignore[arg-type]


def test_each_row_is_one_line_read_back_with_its_request(tmp_path: Path) -> None:
    log = new_log(tmp_path)

    assert log.write("req-1", ROWS, ["yes", "no"])
    log.close()

    logged = read_logs(log_files(tmp_path), COLUMNS)
    assert logged.meta[["request_id", "row", "model_name", "model_version", "run_id"]].to_dict(
        "records"
    ) == [
        {
            "request_id": "req-1",
            "row": 0,
            "model_name": "shop-churn",
            "model_version": "4",
            "run_id": "run-1",
        },
        {
            "request_id": "req-1",
            "row": 1,
            "model_name": "shop-churn",
            "model_version": "4",
            "run_id": "run-1",
        },
    ]
    assert logged.meta["prediction"].tolist() == ["yes", "no"]
    assert str(logged.meta["time"].dt.tz) == "UTC"
    assert logged.inputs["plan"].tolist()[0] == "basic" and pd.isna(logged.inputs["plan"][1])
    assert logged.inputs["fee"].tolist()[0] == 12.5 and pd.isna(logged.inputs["fee"][1])
    assert logged.inputs["signup"].tolist() == ["2026-01-02T00:00:00", "2026-02-03T00:00:00"]
    assert logged.inputs["calls"].tolist() == [3.0, 0.0]


def test_without_column_types_inputs_are_read_as_the_json_has_them(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.write("req-1", [{"code": "00123", "on": True, "count": 2}], ["yes"])

    logged = read_logs(log_files(tmp_path))

    assert logged.inputs.to_dict("records") == [{"code": "00123", "on": 1, "count": 2}]


def test_rows_of_json_values_are_written_as_they_are_but_for_non_finite_numbers(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    rows: list[dict[str, Any]] = [
        {"plan": "basic", "fee": float("inf"), "calls": 3},
        {"plan": None, "fee": float("nan"), "calls": -2.5},
    ]
    log.write("req-1", rows, ["yes", "no"])

    (path,) = tmp_path.glob(f"*{OPEN_SUFFIX}")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["inputs"] for line in lines] == [
        {"plan": "basic", "fee": None, "calls": 3},
        {"plan": None, "fee": None, "calls": -2.5},
    ]


def test_an_open_file_is_renamed_when_closed(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.write("req-1", ROWS[:1], ["yes"])

    assert [path.name.endswith(OPEN_SUFFIX) for path in tmp_path.iterdir()] == [True]
    log.close()
    assert [path.name.endswith(CLOSED_SUFFIX) for path in tmp_path.iterdir()] == [True]


def test_files_rotate_by_size_and_no_row_is_lost_or_repeated(tmp_path: Path) -> None:
    log = new_log(tmp_path, max_bytes=2000)

    for index in range(60):
        log.write(f"req-{index}", ROWS, ["yes", "no"])

    closed = list(tmp_path.glob(f"*{CLOSED_SUFFIX}"))
    assert len(closed) >= 5
    assert all(path.stat().st_size <= 2000 for path in closed)
    logged = read_logs(log_files(tmp_path))
    assert sorted(logged.meta["request_id"].unique()) == sorted(f"req-{i}" for i in range(60))
    assert len(logged) == 120


def test_a_line_cut_by_a_killed_process_is_skipped(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.write("req-1", ROWS, ["yes", "no"])
    (path,) = tmp_path.glob(f"*{OPEN_SUFFIX}")
    with path.open("ab") as stream:
        stream.write(b'{"time": "2026-')  # the start of a line, as a kill would leave it

    assert len(read_logs(log_files(tmp_path))) == 2


def test_sampling_logs_the_given_share_of_requests(tmp_path: Path) -> None:
    never, always = new_log(tmp_path, sample_rate=0.0), new_log(tmp_path, sample_rate=1.0)
    half = new_log(tmp_path, sample_rate=0.5)

    assert not any(never.sampled() for _ in range(100))
    assert all(always.sampled() for _ in range(100))
    assert 300 < sum(half.sampled() for _ in range(1000)) < 700


def test_a_record_that_cannot_be_written_is_dropped_and_counted(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be", encoding="utf-8")
    log = new_log(blocked / "logs")

    assert log.write("req-1", ROWS, ["yes", "no"]) is False
    assert log.dropped == 1


def _write_many(folder: str, worker: int) -> None:
    log = new_log(Path(folder))
    for index in range(200):
        log.write(f"w{worker}-{index}", ROWS, ["yes", "no"])
    log.close()


def test_processes_writing_at_once_never_interleave(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(tmp_path), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    files = list(tmp_path.glob(f"*{CLOSED_SUFFIX}"))
    assert len(files) == 4  # one per process
    lines = [line for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4 * 200 * 2
    records = [json.loads(line) for line in lines]
    assert len({(r["request_id"], r["row"]) for r in records}) == len(records)


def test_only_files_changed_since_a_time_are_listed(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.write("req-1", ROWS, ["yes", "no"])
    log.close()
    (path,) = tmp_path.iterdir()
    os.utime(path, (1_000_000, 1_000_000))

    assert log_files(tmp_path, since=2_000_000) == []
    assert log_files(tmp_path, since=0) == [path]
    assert log_files(tmp_path / "absent") == []


def test_frame_records_are_the_rows_of_the_frame() -> None:
    frame = pd.DataFrame(
        {
            "plan": ["basic", None],
            "fee": [12.5, np.nan],
            "signup": pd.to_datetime(["2026-01-02", None]),
        }
    )

    first, second = frame_records(frame)

    assert first == {"plan": "basic", "fee": 12.5, "signup": pd.Timestamp("2026-01-02")}
    assert all(pd.isna(value) for value in second.values())
    assert list(second) == ["plan", "fee", "signup"]
