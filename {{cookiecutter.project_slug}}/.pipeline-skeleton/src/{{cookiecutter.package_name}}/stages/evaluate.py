"""Stage ``evaluate``: score the model on held-out data (``results/metrics.json``).

Skeleton: writes the number of input files the model stage saw as the one metric,
so ``dvc metrics show`` works from day one. Replace the body of :func:`evaluate`
with your scoring, then register the model with ``tracking.register_and_promote``.
"""

from __future__ import annotations

import json
import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..metadata import load_metadata
from .train import INPUTS_FILE, model_dir

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
METRICS_FILE = "metrics.json"


def evaluate(config: DictConfig) -> dict[str, float]:
    """Write ``results/metrics.json``."""
    metadata = load_metadata()
    inputs = json.loads((model_dir(metadata) / INPUTS_FILE).read_text(encoding="utf-8"))
    metrics = {"input_files": float(len(inputs))}
    results = metadata.root / RESULTS_DIR
    results.mkdir(exist_ok=True)
    (results / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    log.info("Wrote %s", results / METRICS_FILE)
    return metrics


def main() -> None:
    """Run the stage from the command line."""
    run_stage(evaluate)


if __name__ == "__main__":
    main()
