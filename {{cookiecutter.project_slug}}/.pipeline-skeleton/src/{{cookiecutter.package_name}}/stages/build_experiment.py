"""Stage ``build_experiment``: the dataset of one experiment (``data/experiment/``).

Skeleton: copies ``data/processed/<project>/`` to ``data/experiment/<name>/``.
Replace the body of :func:`build_experiment` with your feature selection and a
train/test split by participant, writing ``train.parquet`` and ``test.parquet``.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.io import copy_directory
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def build_experiment(config: DictConfig) -> None:
    """Pass the processed files through to the experiment's folder."""
    metadata = load_metadata()
    target = metadata.stage_dir("experiment") / str(config.data.experiment.name)
    count = copy_directory(metadata.stage_dir("processed") / metadata.project.slug, target)
    log.info("Passed %d files through to %s", count, target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(build_experiment)


if __name__ == "__main__":
    main()
