"""Stage ``process``: the cleaned table (``data/processed/<dataset>/``).

Rows without a label are dropped and infinite numbers become missing values;
``report.json`` counts both. Missing inputs stay missing: the model imputes
them (``conf/preprocessing/``), so the service can do the same on live data.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
from omegaconf import DictConfig

from ..config import run_stage
from ..data.cleaning import clean
from ..data.dataset import dataset_config
from ..data.io import atomic_directory
from ..data.tables import TABLE_FILE, write_parquet
from ..metadata import load_metadata

log = logging.getLogger(__name__)

REPORT_FILE = "report.json"


def process(config: DictConfig) -> None:
    """Clean the aligned table and report what was dropped."""
    metadata = load_metadata()
    dataset = dataset_config(config)
    source = metadata.stage_dir("raw_aligned") / dataset.name / TABLE_FILE
    cleaned, report = clean(pd.read_parquet(source), dataset.label, source=str(source))
    target = metadata.stage_dir("processed") / dataset.name
    with atomic_directory(target) as folder:
        write_parquet(cleaned, folder / TABLE_FILE)
        (folder / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log.info(
        "Kept %d of %d rows (%d without a label dropped) in %s",
        report["rows_out"],
        report["rows_in"],
        report["dropped_missing_label"],
        target,
    )


def main() -> None:
    """Run the stage from the command line."""
    run_stage(process)


if __name__ == "__main__":
    main()
