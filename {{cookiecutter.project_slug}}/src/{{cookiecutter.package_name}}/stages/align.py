"""Stage ``align``: every file of the raw snapshot in one typed table (``data/raw_aligned/``).

Each column gets one type (numeric, categorical, boolean or date), declared in
``conf/data/<dataset>.yaml`` or read from the data (``data.column_types``), and
``schema.json`` records them. Files whose columns differ, and values that do not
fit their column's type, stop the stage with a message naming file and column.
"""

from __future__ import annotations

import json
import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.column_types import apply_types, column_types
from ..data.dataset import dataset_config
from ..data.io import atomic_directory
from ..data.sources import snapshot_tables
from ..data.tables import TABLE_FILE, read_tables, write_parquet
from ..metadata import load_metadata

log = logging.getLogger(__name__)

SCHEMA_FILE = "schema.json"


def align(config: DictConfig) -> None:
    """Read the snapshot's tables, check they agree, and write them typed as one table."""
    metadata = load_metadata()
    dataset = dataset_config(config)
    raw = metadata.stage_dir("raw") / dataset.name
    declared_text = [name for name, kind in dataset.types.items() if kind == "categorical"]
    frame = read_tables(snapshot_tables(raw), text=declared_text)
    types = column_types(frame, dataset.types, dataset.dates, source=str(raw))
    typed = apply_types(frame, types, source=str(raw))
    target = metadata.stage_dir("raw_aligned") / dataset.name
    with atomic_directory(target) as folder:
        write_parquet(typed, folder / TABLE_FILE)
        (folder / SCHEMA_FILE).write_text(json.dumps(types, indent=2) + "\n", encoding="utf-8")
    log.info("Aligned %d rows of %d columns into %s", len(typed), len(types), target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(align)


if __name__ == "__main__":
    main()
