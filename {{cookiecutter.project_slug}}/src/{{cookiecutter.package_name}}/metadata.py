"""Read and validate ``metadata.yaml``, the one place that describes the project.

Data stage locations, the S3 bucket and the tracking settings are written once,
in ``metadata.yaml``; code asks this module for them instead of repeating paths:

    >>> from {{ cookiecutter.package_name }}.metadata import load_metadata
    >>> load_metadata().stage_dir("processed")  # doctest: +SKIP
    PosixPath('/home/me/{{ cookiecutter.project_slug }}/data/processed')
"""

from __future__ import annotations

from datetime import date
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator

from .strict import StrictModel, field_problems

METADATA_FILE = "metadata.yaml"

StageName = Literal["raw", "raw_aligned", "processed", "experiment"]
"""The four data stages, in pipeline order."""

STAGES: tuple[StageName, ...] = ("raw", "raw_aligned", "processed", "experiment")


class MetadataError(ValueError):
    """``metadata.yaml`` is missing, unreadable or breaks the schema."""


class Project(StrictModel):
    """What the project is."""

    name: str = Field(min_length=1)
    slug: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    package: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    license: str = Field(min_length=1)
    created: date


class Owner(StrictModel):
    """Who answers for the project and its data."""

    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    team: str = ""


class Storage(StrictModel):
    """The S3 location that holds the team's copy of the data."""

    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""
    region: str = Field(min_length=1)
    endpoint_url: str = ""

    def uri(self, path: str | PurePosixPath = "") -> str:
        """Return the ``s3://`` URI of ``path`` inside the project's prefix."""
        parts = [part for part in (self.prefix.strip("/"), str(path).strip("/")) if part]
        return "/".join([f"s3://{self.bucket}", *parts])


class DataStage(StrictModel):
    """One data stage: where its files live and what belongs there."""

    path: PurePosixPath
    description: str = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _relative_to_project(cls, path: PurePosixPath) -> PurePosixPath:
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a path inside the project, such as data/raw")
        return path


class Outputs(StrictModel):
    """Where the project keeps what it makes besides data: models, results, monitoring."""

    models: PurePosixPath = PurePosixPath("models")
    results: PurePosixPath = PurePosixPath("results")
    monitoring: PurePosixPath = PurePosixPath("monitoring")


class Tracking(StrictModel):
    """Where MLflow records runs and registers models."""

    uri: str = Field(min_length=1)
    experiment_name: str = Field(min_length=1)
    registered_model_name: str = Field(min_length=1)


class ModelCard(StrictModel):
    """Documentation of the model, filled in as it matures."""

    intended_use: str = ""
    out_of_scope_use: str = ""
    training_data: str = ""
    evaluation_data: str = ""
    metrics: list[str] = Field(default_factory=list)
    limitations: str = ""
    ethical_considerations: str = ""


class Metadata(StrictModel):
    """The validated content of ``metadata.yaml``."""

    project: Project
    owner: Owner
    storage: Storage
    naming_scheme: str = Field(min_length=1)
    data_stages: dict[StageName, DataStage]
    outputs: Outputs = Field(default_factory=Outputs)
    tracking: Tracking
    model_card: ModelCard = Field(default_factory=ModelCard)
    _root: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("data_stages")
    @classmethod
    def _all_stages_present(cls, stages: dict[StageName, DataStage]) -> dict[StageName, DataStage]:
        missing = [name for name in STAGES if name not in stages]
        if missing:
            raise ValueError(f"every stage needs an entry; missing: {', '.join(missing)}")
        return stages

    @property
    def root(self) -> Path:
        """The project root: the folder that holds ``metadata.yaml``."""
        return self._root

    def stage_dir(self, stage: StageName) -> Path:
        """Return the local folder of a data stage."""
        return self._root / self.data_stages[stage].path

    def model_dir(self, dataset: str) -> Path:
        """Return the folder of the model the pipeline last trained on ``dataset``."""
        return self._root / self.outputs.models / dataset

    def results_dir(self) -> Path:
        """Return the folder of the latest evaluation's metrics and plots."""
        return self._root / self.outputs.results

    def validation_file(self) -> Path:
        """Return the latest evaluation's gate decision, written by the evaluate stage."""
        return self.results_dir() / "validation.json"

    def prediction_log_dir(self, model_name: str) -> Path:
        """Return the folder of the prediction logs of the registered model ``model_name``."""
        return self._root / self.outputs.monitoring / "predictions" / model_name

    def reference_cache_dir(self) -> Path:
        """Return the folder of the monitor's copies of model references (one per run)."""
        return self._root / self.outputs.monitoring / "references"

    def prediction_log_uri(self, model_name: str) -> str:
        """Return the ``s3://`` URI the closed prediction logs of ``model_name`` are shipped to."""
        return self.storage.uri(self.outputs.monitoring / "predictions" / model_name)

    def registered_model_name(self, dataset: str) -> str:
        """Return the registry name of ``dataset``'s models: each dataset has its own champion."""
        return f"{self.tracking.registered_model_name}-{dataset}"

    def stage_uri(self, stage: StageName) -> str:
        """Return the ``s3://`` URI of a data stage in the team's bucket."""
        return self.storage.uri(self.data_stages[stage].path)


def find_project_root(start: Path | None = None) -> Path:
    """Return the nearest folder at or above ``start`` that holds ``metadata.yaml``.

    Raises:
        MetadataError: No such folder exists (the code runs outside the project).
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / METADATA_FILE).is_file():
            return folder
    raise MetadataError(
        f"No {METADATA_FILE} found in {here} or any parent folder. "
        "Run the command from inside the project, or pass the file's path."
    )


def load_metadata(path: Path | None = None) -> Metadata:
    """Load and validate ``metadata.yaml``.

    Args:
        path: The file to read; by default the project's own, found from the
            current directory upwards.

    Raises:
        MetadataError: The file cannot be read or breaks the schema; the message
            names every offending field.
    """
    path = path or find_project_root() / METADATA_FILE
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MetadataError(f"Cannot read {path}: {error}") from error
    try:
        metadata = Metadata.model_validate(content)
    except ValidationError as error:
        problems = field_problems(error)
        raise MetadataError(f"{path} does not match the metadata schema:\n{problems}") from error
    metadata._root = path.resolve().parent
    return metadata
