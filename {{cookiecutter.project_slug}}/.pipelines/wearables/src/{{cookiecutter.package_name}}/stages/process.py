"""Stage ``process``: clean aligned sessions, compute windowed features (``data/processed/``)."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.features import PLAUSIBLE_RANGES, build_features
from ..data.tables import TABLE_FILE
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def process(config: DictConfig) -> None:
    """Write one feature table covering every participant, task and session."""
    metadata = load_metadata()
    name = dataset_config(config).name
    settings = config.data.stages.process
    out_path = metadata.stage_dir("processed") / name / TABLE_FILE
    features = build_features(
        metadata.stage_dir("raw_aligned"),
        out_path,
        name,
        ranges=PLAUSIBLE_RANGES,
        max_gap_s=settings.max_gap_s,
        window_s=settings.window_s,
        step_s=settings.step_s,
        rate_hz=config.data.stages.align.rate_hz,
    )
    log.info("Wrote %d feature windows to %s", len(features), out_path)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(process)


if __name__ == "__main__":
    main()
