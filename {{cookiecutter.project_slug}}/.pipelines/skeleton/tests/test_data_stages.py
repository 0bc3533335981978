"""The skeleton's align and process stages on the configured source: one table.

Replace these tests as you write your align and process stages.
"""

import pandas as pd

from {{ cookiecutter.package_name }}.data.dataset import DatasetConfig
from {{ cookiecutter.package_name }}.data.sources import snapshot_tables
from {{ cookiecutter.package_name }}.data.tables import TABLE_FILE, read_tables
from {{ cookiecutter.package_name }}.metadata import Metadata


def test_align_passes_the_snapshot_through(staged: tuple[DatasetConfig, Metadata]) -> None:
    dataset, metadata = staged
    raw = metadata.stage_dir("raw") / dataset.name
    aligned = metadata.stage_dir("raw_aligned") / dataset.name

    copied = sorted(path.relative_to(aligned) for path in aligned.rglob("*") if path.is_file())
    assert copied == sorted(path.relative_to(raw) for path in raw.rglob("*") if path.is_file())


def test_process_writes_one_table_with_the_label(staged: tuple[DatasetConfig, Metadata]) -> None:
    dataset, metadata = staged
    aligned = metadata.stage_dir("raw_aligned") / dataset.name

    table = pd.read_parquet(metadata.stage_dir("processed") / dataset.name / TABLE_FILE)
    assert dataset.label in table.columns
    assert len(table) == len(read_tables(snapshot_tables(aligned)))
