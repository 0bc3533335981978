"""Stage ``train``: fit the configured model and record the run in MLflow (``models/``).

Run alone it fits on the experiment's training set, logs the run (flattened
config, cross-validated scores, the model with its signature and an input
example, git commit, the dataset's DVC hash and a sample of the training inputs
as the monitor's reference) and saves the model to
``models/<dataset>/``. As a trial of a sweep (``sweeps``) it is a child run of
the sweep's parent run and only returns its cross-validated score.
"""

from __future__ import annotations

import logging
import tempfile
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema
from omegaconf import DictConfig, OmegaConf
from skops.io import dumps as skops_dumps
from skops.io import get_untrusted_types

from ..config import run_stage
from ..data.dataset import SplitConfig
from ..data.experiment import TRAIN_FILE, ExperimentData
from ..data.io import atomic_directory
from ..metadata import Metadata, load_metadata
from ..modeling import build_model, champion_metric, cross_validated_scores, split_dataset
from ..monitoring.reference import REFERENCE_ARTIFACTS, write_reference_inputs
from ..provenance import dvc_output_hash, git_commit
from ..tracking import (
    RUN_DESCRIPTION_TAG,
    configure_tracking,
    flatten,
    log_table_input,
    table_dataset,
)
from ..trained_model import TrainedModel

log = logging.getLogger(__name__)

# What the logged model needs to run, pinned to the installed versions. Listing it
# saves MLflow from inferring it in a subprocess (several seconds per model).
MODEL_REQUIREMENTS = ("scikit-learn", "feature-engine", "pandas", "numpy", "pyarrow")


def pinned_requirements() -> list[str]:
    """The model's runtime requirements at the versions installed here."""
    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def trusted_types(estimator: object) -> list[str]:
    """Types MLflow's safe (skops) format must be told to trust to save this estimator.

    The estimator was just trained here by this code, so its own types are trusted.
    """
    return list(get_untrusted_types(data=skops_dumps(estimator)))


def experiment_dir(config: DictConfig, metadata: Metadata) -> Path:
    """The folder of the configured dataset's train and test sets."""
    return metadata.stage_dir("experiment") / str(config.data.name)


def input_schema(experiment: ExperimentData) -> Schema:
    """Every feature as the model takes it, each required: numbers as double, the rest as text.

    Built from ``dataset.json`` rather than inferred from a few example rows, whose
    gaps would make MLflow mark columns optional by chance.
    """
    return Schema(
        [
            ColSpec("double" if kind in ("numeric", "boolean") else "string", name)
            for name, kind in experiment.features.items()
        ]
    )


def train(config: DictConfig, sweep_parent_run_id: str | None = None) -> float:
    """Fit the model, log the run and return the cross-validated ``tracking.metric``.

    Sweeps maximise the returned value, so a metric where lower is better (RMSE)
    comes back negated. With ``sweep_parent_run_id`` the run is a trial: a child
    of that run, scored by cross-validation and not fitted or saved.
    """
    metadata = load_metadata()
    tracking = configure_tracking(config, metadata)
    folder = experiment_dir(config, metadata)
    experiment = ExperimentData.read(folder)
    train_path = folder / TRAIN_FILE
    frame = pd.read_parquet(train_path)
    data = split_dataset(frame, experiment)
    model = build_model(config.model, config.preprocessing, experiment)
    split = SplitConfig(**experiment.split)
    cv_scores = cross_validated_scores(model, data, experiment.task, split, config.train.cv_folds)
    metric, greater_is_better = champion_metric(config.tracking, experiment.task)
    score = cv_scores[metric]

    data_version = dvc_output_hash(metadata.root, folder)
    run_name = f"{config.model.name} on {experiment.name}"
    with mlflow.start_run(run_name=run_name, parent_run_id=sweep_parent_run_id) as run:
        params = flatten(OmegaConf.to_container(config, resolve=True))  # type: ignore[arg-type]
        # Settings left empty take a value elsewhere: log the value used, not None.
        params.update(
            {
                "env.tracking_uri": tracking.uri,
                "tracking.experiment_name": tracking.experiment_name,
                "tracking.registered_model_name": tracking.model_name,
                "tracking.metric": metric,
                "tracking.greater_is_better": greater_is_better,
            }
        )
        mlflow.log_params(params)
        mlflow.log_metrics({f"cv_{name}": value for name, value in cv_scores.items()})
        mlflow.set_tags(
            {
                "env": config.env.name,
                "dataset": experiment.name,
                "task": experiment.task,
                "data_version": data_version or "",
                "mlflow.source.git.commit": git_commit(metadata.root) or "",
                RUN_DESCRIPTION_TAG: (
                    f"{config.model.name} trained on the {experiment.name} dataset "
                    f"({len(frame)} rows, {len(experiment.features)} input columns) to predict "
                    f"'{experiment.label}' ({experiment.task}); data version "
                    f"{data_version or 'not tracked by DVC'}; cross-validated {metric} = "
                    f"{score:.4f} over {config.train.cv_folds} folds."
                ),
            }
        )
        log_table_input(
            table_dataset(frame, train_path, metadata.root, experiment, "train", data_version),
            context="training",
        )
        log.info("Cross-validated %s of %s: %.4f", metric, config.model.name, score)
        if sweep_parent_run_id:
            return score if greater_is_better else -score

        model.fit(data.features, data.labels)
        example = data.features.head(5)
        signature = ModelSignature(
            inputs=input_schema(experiment),
            outputs=infer_signature(example, model.predict(example)).outputs,
        )
        saved = {
            "signature": signature,
            "input_example": example,
            "pip_requirements": pinned_requirements(),
            "skops_trusted_types": trusted_types(model),
        }
        logged = mlflow.sklearn.log_model(model, name="model", **saved)
        with tempfile.TemporaryDirectory() as reference:
            rows = int(config.tracking.reference_rows)
            write_reference_inputs(Path(reference), data.features, experiment, rows)
            mlflow.log_artifacts(reference, artifact_path=REFERENCE_ARTIFACTS)
        with atomic_directory(metadata.model_dir(experiment.name)) as target:
            trained = TrainedModel(target, run.info.run_id, logged.model_uri)
            mlflow.sklearn.save_model(model, trained.model_path, **saved)
            trained.write()
    log.info("Saved the model to %s (run %s)", metadata.model_dir(experiment.name), run.info.run_id)
    return score if greater_is_better else -score


def main() -> None:
    """Run the stage from the command line."""
    run_stage(train)


if __name__ == "__main__":
    main()
