"""Stage ``align``: put every device of a session on one time base (``data/raw_aligned/``)."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.align import align_recordings
from ..data.dataset import dataset_config
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def align(config: DictConfig) -> None:
    """Synchronise the raw recordings of each session into one table."""
    metadata = load_metadata()
    paths = align_recordings(
        metadata.stage_dir("raw"),
        metadata.stage_dir("raw_aligned"),
        dataset_config(config).name,
        config.data.stages.align.rate_hz,
    )
    log.info("Aligned %d sessions into %s", len(paths), metadata.stage_dir("raw_aligned"))


def main() -> None:
    """Run the stage from the command line."""
    run_stage(align)


if __name__ == "__main__":
    main()
