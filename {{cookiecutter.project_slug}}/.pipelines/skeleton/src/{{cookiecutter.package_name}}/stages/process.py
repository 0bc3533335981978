"""Stage ``process``: the one table later stages read (``data/processed/<dataset>/``).

Skeleton: stacks the aligned tables as they are into ``table.parquet``. Replace
the body of :func:`process` with your cleaning and feature computation; the
stages after it (split, training, evaluation) work on any table with the
configured label column.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.io import atomic_write_parquet
from ..data.sources import snapshot_tables
from ..data.tables import TABLE_FILE, read_tables
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def process(config: DictConfig) -> None:
    """Write the aligned files as one table."""
    metadata = load_metadata()
    name = dataset_config(config).name
    table = read_tables(snapshot_tables(metadata.stage_dir("raw_aligned") / name))
    target = metadata.stage_dir("processed") / name / TABLE_FILE
    atomic_write_parquet(table, target)
    log.info("Wrote %d rows of %d columns to %s", len(table), table.shape[1], target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(process)


if __name__ == "__main__":
    main()
