"""Stage ``train``: fit the configured model and record the run in MLflow (``models/``).

Run alone it fits on the experiment's training set, logs the run (flattened
config, cross-validated scores, the model with its signature and an input
example, git commit and the dataset's DVC hash) and saves the model to
``models/<project>/``. As a sweep (``-m hparams_search=optuna``) every trial
is a child run of one parent run and returns its cross-validated score.
"""

from __future__ import annotations

import json
import logging
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]
from mlflow.models import infer_signature
from omegaconf import DictConfig, OmegaConf
from skops.io import dumps as skops_dumps
from skops.io import get_untrusted_types

from ..config import run_stage
from ..data.io import atomic_directory
from ..metadata import Metadata, load_metadata
from ..modeling import build_estimator, cross_validated_scores, split_dataset
from ..tracking import (
    configure_tracking,
    dvc_output_hash,
    flatten,
    git_commit,
    sweep_parent_run_id,
)

log = logging.getLogger(__name__)

MODEL_SUBDIR = "model"
RUN_FILE = "run.json"
# What the logged model needs to run, pinned to the installed versions. Listing it
# saves MLflow from inferring it in a subprocess (several seconds per model).
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "pyarrow")


def pinned_requirements() -> list[str]:
    """The model's runtime requirements at the versions installed here."""
    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def trusted_types(estimator: object) -> list[str]:
    """Types MLflow's safe (skops) format must be told to trust to save this estimator.

    The estimator was just trained here by this code, so its own types are trusted.
    """
    return list(get_untrusted_types(data=skops_dumps(estimator)))


def experiment_dir(config: DictConfig, metadata: Metadata) -> Path:
    """The folder of the configured experiment's train and test sets."""
    return metadata.stage_dir("experiment") / str(config.data.experiment.name)


def model_dir(metadata: Metadata) -> Path:
    """The folder the pipeline keeps its trained model in."""
    return metadata.root / "models" / metadata.project.slug


def _sweeping() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def train(config: DictConfig) -> float:
    """Fit the model, log the run and return the cross-validated ``tracking.metric``."""
    metadata = load_metadata()
    configure_tracking(config, metadata)
    train_path = experiment_dir(config, metadata) / "train.parquet"
    frame = pd.read_parquet(train_path)
    label = config.data.experiment.label
    data = split_dataset(frame, label)
    estimator = build_estimator(config.model.estimator)
    cv_scores = cross_validated_scores(estimator, data, config.train.cv_folds, config.train.seed)
    score = cv_scores[config.tracking.metric]

    with mlflow.start_run(run_name=config.model.name, parent_run_id=sweep_parent_run_id()) as run:
        mlflow.log_params(flatten(OmegaConf.to_container(config, resolve=True)))  # type: ignore[arg-type]
        mlflow.log_metrics({f"cv_{name}": value for name, value in cv_scores.items()})
        mlflow.set_tags(
            {"env": config.env.name, "mlflow.source.git.commit": git_commit(metadata.root) or ""}
        )
        dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
            frame,
            # MLflow creates LocalArtifactDatasetSource at import time (hence the ignore above).
            source=LocalArtifactDatasetSource(str(train_path.relative_to(metadata.root))),
            name=f"{config.data.experiment.name}-train",
            targets=label,
            digest=dvc_output_hash(metadata.root, train_path.parent),
        )
        mlflow.log_input(dataset, context="training")
        log.info("Cross-validated %s of %s: %.4f", config.tracking.metric, config.model.name, score)
        if _sweeping():
            return score

        estimator.fit(data.features, data.labels)
        example = data.features.head(5)
        signature = infer_signature(example, estimator.predict(example))
        logged = mlflow.sklearn.log_model(
            estimator,
            name="model",
            signature=signature,
            input_example=example,
            pip_requirements=pinned_requirements(),
            skops_trusted_types=trusted_types(estimator),
        )
        with atomic_directory(model_dir(metadata)) as folder:
            mlflow.sklearn.save_model(
                estimator,
                folder / MODEL_SUBDIR,
                signature=signature,
                input_example=example,
                pip_requirements=pinned_requirements(),
                skops_trusted_types=trusted_types(estimator),
            )
            run_file = {"run_id": run.info.run_id, "model_uri": logged.model_uri}
            (folder / RUN_FILE).write_text(json.dumps(run_file, indent=2), encoding="utf-8")
    log.info("Saved the model to %s (run %s)", model_dir(metadata), run.info.run_id)
    return score


def main() -> None:
    """Run the stage from the command line."""
    run_stage(train)


if __name__ == "__main__":
    main()
