"""Stage ``train``: fit a model on the experiment's data (``models/``).

Skeleton: records which files it was given in ``models/<project>/inputs.json``.
Replace the body of :func:`train` with your training; the building blocks are
ready: ``modeling.build_estimator`` (the ``model`` config group),
``modeling.cross_validated_scores``, and ``tracking.configure_tracking`` for MLflow.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from ..config import run_stage
from ..data.io import atomic_directory
from ..metadata import Metadata, load_metadata

log = logging.getLogger(__name__)

INPUTS_FILE = "inputs.json"


def experiment_dir(config: DictConfig, metadata: Metadata) -> Path:
    """The folder of the configured experiment's dataset."""
    return metadata.stage_dir("experiment") / str(config.data.experiment.name)


def model_dir(metadata: Metadata) -> Path:
    """The folder the pipeline keeps its trained model in."""
    return metadata.root / "models" / metadata.project.slug


def train(config: DictConfig) -> None:
    """List the experiment's files where the model will go."""
    metadata = load_metadata()
    source = experiment_dir(config, metadata)
    files = sorted(str(path.relative_to(source)) for path in source.rglob("*") if path.is_file())
    with atomic_directory(model_dir(metadata)) as folder:
        (folder / INPUTS_FILE).write_text(json.dumps(files, indent=2) + "\n", encoding="utf-8")
    log.info("No model yet: recorded %d input files in %s", len(files), model_dir(metadata))


def main() -> None:
    """Run the stage from the command line."""
    run_stage(train)


if __name__ == "__main__":
    main()
