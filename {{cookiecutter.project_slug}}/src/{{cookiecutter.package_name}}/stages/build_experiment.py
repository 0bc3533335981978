"""Stage ``build_experiment``: the training and test sets (``data/experiment/<dataset>/``).

Picks the features and the label, settles the task (printed when inferred),
splits by the configured strategy, and describes it all in ``dataset.json``.
"""

from __future__ import annotations

import logging

import pandas as pd
from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.experiment import build_experiment as split_experiment
from ..data.tables import TABLE_FILE
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def build_experiment(config: DictConfig) -> None:
    """Write the experiment's train and test sets and their description."""
    metadata = load_metadata()
    dataset = dataset_config(config)
    source = metadata.stage_dir("processed") / dataset.name / TABLE_FILE
    target = metadata.stage_dir("experiment") / dataset.name
    experiment = split_experiment(pd.read_parquet(source), dataset, target, source=str(source))
    log.info(
        "%s of '%s' from %d features: %d training and %d test rows in %s",
        experiment.task.capitalize(),
        experiment.label,
        len(experiment.features),
        experiment.rows["train"],
        experiment.rows["test"],
        target,
    )


def main() -> None:
    """Run the stage from the command line."""
    run_stage(build_experiment)


if __name__ == "__main__":
    main()
