"""Stage ``ingest``: bring the source recordings into ``data/raw/``.

The example simulates a wearable-sensor study (``data.stages.ingest`` sets its
size). Replace the body of :func:`ingest` with your real source and keep the
output layout: ``<dataset>/<task>/<participant>/<date-time>_<device>.csv``.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.simulate import simulate_recordings, write_recordings
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def ingest(config: DictConfig) -> None:
    """Write the raw recordings of every participant, task and session."""
    metadata = load_metadata()
    dataset = dataset_config(config)
    settings = config.data.stages.ingest
    recordings = simulate_recordings(
        participants=settings.participants,
        tasks=list(settings.tasks),
        sessions_per_task=settings.sessions_per_task,
        duration_s=settings.duration_s,
        seed=settings.seed,
    )
    paths = write_recordings(recordings, metadata.stage_dir("raw"), dataset.name)
    log.info("Wrote %d raw recordings to %s", len(paths), metadata.stage_dir("raw"))


def main() -> None:
    """Run the stage from the command line."""
    run_stage(ingest)


if __name__ == "__main__":
    main()
