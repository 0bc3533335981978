"""A stage that fails part-way leaves its previous output exactly as it was."""

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.io import atomic_directory, atomic_write_parquet


def test_a_completed_folder_replaces_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")

    with atomic_directory(target) as folder:
        assert folder.parent == tmp_path
        assert folder != target
        (folder / "new.txt").write_text("new")

    assert [path.name for path in target.iterdir()] == ["new.txt"]
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_a_failure_keeps_the_old_folder_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")

    with pytest.raises(RuntimeError, match="stage crashed"), atomic_directory(target) as folder:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("stage crashed")

    assert [path.name for path in target.iterdir()] == ["old.txt"]
    assert (target / "old.txt").read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_a_failure_before_the_first_output_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "stage" / "out"

    with pytest.raises(RuntimeError), atomic_directory(target):
        raise RuntimeError("stage crashed")

    assert list((tmp_path / "stage").iterdir()) == []


def test_a_parquet_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "processed" / "features.parquet"
    atomic_write_parquet(pd.DataFrame({"x": [1, 2]}), path)

    atomic_write_parquet(pd.DataFrame({"x": [3]}), path)

    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.DataFrame({"x": [3]}))
    assert [file.name for file in path.parent.iterdir()] == ["features.parquet"]


def test_a_failed_parquet_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    atomic_write_parquet(pd.DataFrame({"x": [1, 2]}), path)

    with pytest.raises(Exception, match="object"):
        atomic_write_parquet(pd.DataFrame({"x": [object()]}), path)

    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.DataFrame({"x": [1, 2]}))
    assert [file.name for file in tmp_path.iterdir()] == ["features.parquet"]
