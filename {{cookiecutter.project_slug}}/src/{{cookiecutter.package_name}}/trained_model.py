"""The model the ``train`` stage leaves for ``evaluate``: ``models/<dataset>/``.

The folder holds the MLflow model (``model/``) and ``run.json``, the id of the
run that trained it and the URI of the copy logged there, which ``evaluate``
registers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MODEL_SUBDIR = "model"
RUN_FILE = "run.json"


@dataclass(frozen=True)
class TrainedModel:
    """Where the trained model is, and the MLflow run that logged it."""

    folder: Path
    run_id: str
    model_uri: str

    @property
    def model_path(self) -> Path:
        """The MLflow model folder."""
        return self.folder / MODEL_SUBDIR

    def write(self) -> None:
        """Record the run in ``run.json``."""
        record = {"run_id": self.run_id, "model_uri": self.model_uri}
        (self.folder / RUN_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> TrainedModel:
        """Read ``run.json`` from a model folder."""
        record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        return cls(folder, record["run_id"], record["model_uri"])
