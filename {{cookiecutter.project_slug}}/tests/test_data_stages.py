"""The data stages on the configured source: one typed table, then a clean one.

They run on the source ``conf/data/<name>.yaml`` names, in a scratch project, so
the checks hold for whatever table the project is pointed at.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.data.dataset import DatasetConfig
from {{ cookiecutter.package_name }}.data.errors import DataValidationError
from {{ cookiecutter.package_name }}.data.tables import TABLE_FILE
from {{ cookiecutter.package_name }}.metadata import Metadata
from {{ cookiecutter.package_name }}.stages.align import SCHEMA_FILE
from {{ cookiecutter.package_name }}.stages.process import REPORT_FILE, process


def test_align_gives_every_column_one_type(staged: tuple[DatasetConfig, Metadata]) -> None:
    dataset, metadata = staged
    aligned = metadata.stage_dir("raw_aligned") / dataset.name

    table = pd.read_parquet(aligned / TABLE_FILE)
    types = json.loads((aligned / SCHEMA_FILE).read_text())
    assert list(types) == list(table.columns)
    for name, kind in types.items():
        if kind in ("numeric", "boolean"):
            assert table[name].dtype == "float64", name
        elif kind == "date":
            assert pd.api.types.is_datetime64_any_dtype(table[name]), name
        else:
            text = table[name].dropna()
            assert text.map(lambda value: isinstance(value, str)).all(), name


def test_process_keeps_every_labelled_row(staged: tuple[DatasetConfig, Metadata]) -> None:
    dataset, metadata = staged
    aligned = pd.read_parquet(metadata.stage_dir("raw_aligned") / dataset.name / TABLE_FILE)
    folder = metadata.stage_dir("processed") / dataset.name

    table = pd.read_parquet(folder / TABLE_FILE)
    report = json.loads((folder / REPORT_FILE).read_text())
    assert table[dataset.label].notna().all()
    assert report["rows_in"] == len(aligned)
    assert report["rows_out"] == len(table) == len(aligned) - report["dropped_missing_label"]


def test_a_failing_stage_leaves_the_previous_output(
    staged: tuple[DatasetConfig, Metadata], scratch_project: Path
) -> None:
    dataset, metadata = staged
    processed = metadata.stage_dir("processed") / dataset.name / TABLE_FILE
    before = processed.read_bytes()
    config = compose_config([f"data.label=not_a_column_{dataset.name}"], root=scratch_project)

    with pytest.raises(DataValidationError, match="label column 'not_a_column_"):
        process(config)

    assert processed.read_bytes() == before
