"""Stage ``process``: clean aligned sessions, compute windowed features (``data/processed/``)."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.features import PLAUSIBLE_RANGES, build_features
from ..metadata import load_metadata

log = logging.getLogger(__name__)

FEATURES_FILE = "features.parquet"


def process(config: DictConfig) -> None:
    """Write one feature table covering every participant, task and session."""
    metadata = load_metadata()
    settings = config.data.process
    out_path = metadata.stage_dir("processed") / metadata.project.slug / FEATURES_FILE
    features = build_features(
        metadata.stage_dir("raw_aligned"),
        out_path,
        metadata.project.slug,
        ranges=PLAUSIBLE_RANGES,
        max_gap_s=settings.max_gap_s,
        window_s=settings.window_s,
        step_s=settings.step_s,
        rate_hz=config.data.align.rate_hz,
    )
    log.info("Wrote %d feature windows to %s", len(features), out_path)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(process)


if __name__ == "__main__":
    main()
