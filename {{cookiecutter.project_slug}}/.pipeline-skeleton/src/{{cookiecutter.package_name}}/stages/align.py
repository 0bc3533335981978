"""Stage ``align``: put every device of a session on one time base (``data/raw_aligned/``).

Skeleton: copies ``data/raw/<project>/`` unchanged to ``data/raw_aligned/<project>/``.
Replace the body of :func:`align` with your synchronisation, keeping its input
and output folders (they are declared in dvc.yaml).
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.io import copy_directory
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def align(config: DictConfig) -> None:
    """Pass the previous stage's files through unchanged."""
    metadata = load_metadata()
    slug = metadata.project.slug
    target = metadata.stage_dir("raw_aligned") / slug
    count = copy_directory(metadata.stage_dir("raw") / slug, target)
    log.info("Passed %d files through to %s", count, target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(align)


if __name__ == "__main__":
    main()
