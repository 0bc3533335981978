"""Table files known by their names."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.data.formats import csv_separator, is_table


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.csv", True), ("A.CSV", True), ("a.csv.gz", True), ("a.parquet", True), ("a.json", False)],
)
def test_table_files_are_known_by_name(name: str, expected: bool) -> None:
    assert is_table(Path(name)) is expected


@pytest.mark.parametrize(("name", "expected"), [("a.tsv", "\t"), ("A.TSV", "\t"), ("a.csv", ",")])
def test_the_separator_follows_the_name(name: str, expected: str) -> None:
    assert csv_separator(name) == expected
