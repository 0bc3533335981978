"""Stage ``ingest``: bring the source recordings into ``data/raw/``.

Skeleton: copies the folder ``data.ingest.source`` (if set) into
``data/raw/<project>/``. Replace :func:`ingest` with your real source (an S3
export, a database query, an API) and keep the output layout:
``<project>/<task>/<participant>/<date-time>_<device>.<ext>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from ..config import run_stage
from ..data.io import copy_directory
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def ingest(config: DictConfig) -> None:
    """Copy the configured source folder into the raw stage."""
    metadata = load_metadata()
    source = config.data.ingest.source
    if source is None:
        log.warning("data.ingest.source is not set: writing an empty raw stage.")
    target = metadata.stage_dir("raw") / metadata.project.slug
    count = copy_directory(Path(source) if source else target / "missing", target)
    log.info("Ingested %d files into %s", count, target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(ingest)


if __name__ == "__main__":
    main()
