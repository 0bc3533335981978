"""The work Spark hands its tasks, run here as plain functions: no Spark or Java needed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.package_name }}.inputs import Column, InputSchemaError
from {{ cookiecutter.package_name }}.spark_tasks import (
    check_batches,
    model_input,
    read_and_check,
    read_pieces,
)

COLUMNS = [Column("visits", "double"), Column("plan", "string")]


def test_a_large_row_group_is_read_a_batch_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "visits.parquet"
    pq.write_table(pa.table({"visits": list(range(250))}), path, row_group_size=250)
    task = pa.RecordBatch.from_pydict({"path": [str(path)], "row_group": [0]})
    schema = pa.schema([("visits", pa.int64())])

    batches = list(read_pieces(pa_fs.LocalFileSystem(), schema, iter([task]), batch_rows=100))

    assert [batch.num_rows for batch in batches] == [100, 100, 50]
    assert pa.Table.from_batches(batches).column("visits").to_pylist() == list(range(250))


def test_csv_files_are_read_by_column_name_and_checked_a_batch_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("visits,plan\n1,gold\n2,\n3,basic\n")
    (tmp_path / "b.csv").write_text("plan,visits\nbasic,4\ngold,5\n,6\n")  # other order
    task = pa.RecordBatch.from_pydict(
        {"path": [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], "row_group": [-1, -1]}
    )
    schema = pa.schema([("visits", pa.string()), ("plan", pa.string())])

    batches = list(read_and_check(pa_fs.LocalFileSystem(), schema, COLUMNS, 2, iter([task])))

    assert [batch.num_rows for batch in batches] == [2, 1, 2, 1]
    table = pa.Table.from_batches(batches)
    assert table.column("visits").to_pylist() == ["1", "2", "3", "4", "5", "6"]
    assert table.column(model_input("visits")).to_pylist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    plans = ["gold", None, "basic", "basic", "gold", None]
    assert table.column(model_input("plan")).to_pylist() == plans


def test_checked_inputs_are_appended_and_the_table_passes_through() -> None:
    batch = pa.RecordBatch.from_pydict(
        {"id": ["007", "008"], "visits": ["3", None], "plan": [None, "gold"]}
    )

    (checked,) = check_batches(COLUMNS, iter([batch]))

    assert checked.schema.names == ["id", "visits", "plan", *map(model_input, ["visits", "plan"])]
    assert checked.column("id").to_pylist() == ["007", "008"]
    assert checked.column(model_input("visits")).type == pa.float64()
    assert checked.column(model_input("visits")).to_pylist() == [3.0, None]
    assert checked.column(model_input("plan")).to_pylist() == [None, "gold"]


def test_a_bad_value_is_named_by_its_row_counted_across_batches() -> None:
    first = pa.RecordBatch.from_pydict({"visits": ["1", "2"], "plan": ["a", "b"]})
    second = pa.RecordBatch.from_pydict({"visits": ["3", "many"], "plan": ["c", "d"]})

    with pytest.raises(InputSchemaError, match=r"'visits'.*rows \[3\] hold \"many\""):
        list(check_batches(COLUMNS, iter([first, second])))


def test_a_missing_column_is_named() -> None:
    batch = pa.RecordBatch.from_pydict({"visits": [1.0]})

    with pytest.raises(InputSchemaError, match="missing column 'plan'"):
        list(check_batches(COLUMNS, iter([batch])))
