"""Reading and writing table files: CSV, TSV and Parquet, parts of one table stacked, and
files too large to hold read and written a batch of rows at a time."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.tables import (
    TableWriter,
    read_batches,
    read_table,
    read_tables,
    write_table,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [34.0, np.nan, 51.0],
            "plan": ["basic", "premium", None],
            "region": ["north", "south", "east"],
        }
    )


@pytest.mark.parametrize("name", ["part.csv", "part.tsv", "part.csv.gz", "part.parquet", "p.pq"])
def test_a_written_table_reads_back(frame: pd.DataFrame, tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    write_table(frame, path)

    pd.testing.assert_frame_equal(read_table(path), frame, check_dtype=False)


def test_a_tsv_is_tab_separated(frame: pd.DataFrame, tmp_path: Path) -> None:
    write_table(frame, tmp_path / "part.tsv")

    assert (tmp_path / "part.tsv").read_text().splitlines()[0] == "age\tplan\tregion"


def test_another_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    path.write_text("{}")

    with pytest.raises(DataValidationError, match="expected a table file") as error:
        read_table(path)
    assert str(path) in str(error.value)
    assert "got '.json'" in str(error.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"

    with pytest.raises(DataValidationError) as error:
        read_table(path)
    assert str(error.value) == f"{path}: no such file"


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    path.write_text("not parquet at all")

    with pytest.raises(DataValidationError) as error:
        read_table(path)
    assert str(error.value).startswith(f"{path}: cannot be read as a table: ")


def test_writing_another_format_is_refused(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"

    with pytest.raises(DataValidationError, match="the output must end in one of") as error:
        write_table(frame, path)
    assert str(path) in str(error.value)
    assert not path.exists()


def test_parts_are_stacked_in_order_with_the_first_files_columns(tmp_path: Path) -> None:
    first, second = tmp_path / "2026-01.csv", tmp_path / "2026-02.parquet"
    write_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), first)
    write_table(pd.DataFrame({"b": ["z"], "a": [3]}), second)  # same columns, another order

    table = read_tables([first, second])

    assert list(table.columns) == ["a", "b"]
    assert table["a"].tolist() == [1, 2, 3]
    assert table["b"].tolist() == ["x", "y", "z"]
    assert list(table.index) == [0, 1, 2]


def test_parts_with_other_columns_are_named(tmp_path: Path) -> None:
    first, second = tmp_path / "2026-01.csv", tmp_path / "2026-02.csv"
    write_table(pd.DataFrame({"a": [1], "b": [2]}), first)
    write_table(pd.DataFrame({"a": [1], "c": [2]}), second)

    with pytest.raises(DataValidationError) as error:
        read_tables([first, second])
    message = str(error.value)
    assert message.startswith(f"{second}: its columns differ from 2026-01.csv's")
    assert "(missing ['b'], extra ['c'])" in message


def test_no_part_is_an_error() -> None:
    with pytest.raises(DataValidationError, match="no CSV or Parquet file to read"):
        read_tables([])


def test_columns_read_as_text_keep_what_was_written(tmp_path: Path) -> None:
    for part in ("a", "b"):
        (tmp_path / f"{part}.csv").write_text("zip,count\n01234,1\n00042,2\n")

    table = read_tables([tmp_path / "a.csv", tmp_path / "b.csv"], text=["zip"])

    assert list(table["zip"]) == ["01234", "00042"] * 2
    assert list(table["count"]) == [1, 2] * 2


def test_text_columns_beside_whole_numbers_with_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("visits,code\n3,007\n,010\n5,\n")

    table = read_table(path, ["code"])

    assert table["visits"].tolist()[::2] == [3, 5]
    assert table["visits"].isna().tolist() == [False, True, False]
    assert table["code"].tolist()[:2] == ["007", "010"]
    assert table["code"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("name", ["big.csv", "big.tsv", "big.csv.gz", "big.parquet"])
def test_a_file_streams_in_batches_in_order(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    table = pd.DataFrame({"code": ["007", "010", None, "x"] * 5, "n": [1.5, None, 3.0, 4.0] * 5})
    write_table(table, path)

    batches = list(read_batches(path, batch_rows=6))

    assert [batch.num_rows for batch in batches] == [6, 6, 6, 2]
    read = pd.concat([batch.to_pandas() for batch in batches], ignore_index=True)
    assert read["code"].tolist() == table["code"].tolist()  # codes keep their zeros
    if name.endswith(".parquet"):
        pd.testing.assert_frame_equal(read, table, check_dtype=False)
    else:  # a CSV file is read as written: every column text, an empty cell missing
        assert [None if pd.isna(v) else v for v in read["n"]] == ["1.5", None, "3.0", "4.0"] * 5


def test_streaming_a_parquet_file_holds_one_row_group_at_a_time(tmp_path: Path) -> None:
    """Arrow's allocations while reading stay far below the file's size (a hundredth each)."""
    path = tmp_path / "large.parquet"
    groups, rows = 100, 2_000
    ids = [f"customer-{i:09d}" for i in range(groups * rows)]
    frame = pd.DataFrame({"id": ids, "value": np.arange(groups * rows, dtype=float)})
    frame.to_parquet(path, row_group_size=rows)
    start = pa.total_allocated_bytes()
    held = []

    for batch in read_batches(path, batch_rows=1_000):
        held.append(pa.total_allocated_bytes() - start)
        del batch

    assert len(held) == groups * rows // 1_000
    assert max(held) < path.stat().st_size / 4  # one reader of the whole file held it all


def test_streaming_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no such file"):
        list(read_batches(tmp_path / "absent.csv"))


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.parquet"])
def test_a_written_file_appears_whole_when_the_writer_closes(
    frame: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)

    with TableWriter(path) as writer:
        writer.write(batch)
        writer.write(batch)
        assert not path.exists()

    pd.testing.assert_frame_equal(
        read_table(path, ["plan", "region"]), pd.concat([frame, frame], ignore_index=True)
    )
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "scored.csv"
    path.write_text("mine\n")

    with pytest.raises(RuntimeError), TableWriter(path) as writer:
        writer.write(pa.RecordBatch.from_pandas(frame, preserve_index=False))
        raise RuntimeError("scoring failed half way")

    assert path.read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scored.csv"]
