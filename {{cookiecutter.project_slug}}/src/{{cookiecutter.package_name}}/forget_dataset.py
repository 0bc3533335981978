"""Remove one dataset's runs and registered model from the tracking store.

When a project moves from the example to its own data, the example's runs and
its champion stay in the store. They never compete with another dataset's
models (each dataset has a registered model of its own), but they clutter the
MLflow UI. This removes them:

    make forget-dataset DATASET=churn

Runs are deleted the MLflow way (moved to the bin; ``mlflow gc`` empties it),
and the registered model ``<tracking.registered_model_name>-<dataset>`` with
every version. A store on a server is shared with the team: it needs ``--yes``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .metadata import MetadataError, load_metadata
from .tracking import resolve_tracking_uri

LOCAL_SCHEMES = ("sqlite:", "file:")


def forget_dataset(
    client: MlflowClient, experiment_name: str, model_name: str, dataset: str
) -> tuple[int, bool]:
    """Delete the runs tagged with ``dataset`` and the registered model ``model_name``.

    Returns:
        How many runs were deleted, and whether the registered model existed.
    """
    deleted = 0
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        runs = client.search_runs(
            [experiment.experiment_id], filter_string=f"tags.dataset = '{dataset}'"
        )
        for run in runs:
            client.delete_run(run.info.run_id)
            deleted += 1
    try:
        client.delete_registered_model(model_name)
    except MlflowException:  # no such model
        return deleted, False
    return deleted, True


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="the dataset's name: conf/data/<name>.yaml")
    parser.add_argument("--yes", action="store_true", help="confirm for a store on a server")
    args = parser.parse_args(argv)
    try:
        metadata = load_metadata()
    except MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    uri = resolve_tracking_uri(metadata)
    if not uri.startswith(LOCAL_SCHEMES) and not args.yes:
        print(
            f"error: {uri} is a shared tracking server; add --yes (make forget-dataset "
            f"DATASET={args.dataset} YES=1) to delete the dataset's runs and model there",
            file=sys.stderr,
        )
        return 2
    mlflow.set_tracking_uri(uri)
    model_name = metadata.registered_model_name(args.dataset)
    runs, had_model = forget_dataset(
        MlflowClient(), metadata.tracking.experiment_name, model_name, args.dataset
    )
    model = f"the registered model {model_name}" if had_model else f"no model {model_name}"
    print(f"Deleted {runs} run(s) of dataset '{args.dataset}' and {model} from {uri}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
