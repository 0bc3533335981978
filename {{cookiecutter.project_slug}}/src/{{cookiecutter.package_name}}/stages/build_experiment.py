"""Stage ``build_experiment``: the train/test dataset of one experiment (``data/experiment/``)."""

from __future__ import annotations

import logging

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from ..config import run_stage
from ..data.split import build_experiment as split_experiment
from ..metadata import load_metadata
from .process import FEATURES_FILE

log = logging.getLogger(__name__)


def build_experiment(config: DictConfig) -> None:
    """Select features and label, and split by participant into train and test."""
    metadata = load_metadata()
    settings = config.data.experiment
    features = pd.read_parquet(
        metadata.stage_dir("processed") / metadata.project.slug / FEATURES_FILE
    )
    columns = OmegaConf.to_container(settings.features) if settings.features is not None else None
    train, test = split_experiment(
        features,
        metadata.stage_dir("experiment") / settings.name,
        feature_columns=columns,  # type: ignore[arg-type]
        label=settings.label,
        test_fraction=settings.test_fraction,
        seed=settings.seed,
    )
    log.info("Wrote %s and %s", train, test)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(build_experiment)


if __name__ == "__main__":
    main()
