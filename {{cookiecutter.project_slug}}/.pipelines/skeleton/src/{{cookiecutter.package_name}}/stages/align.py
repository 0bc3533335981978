"""Stage ``align``: give the raw files one common form (``data/raw_aligned/<dataset>/``).

Skeleton: copies ``data/raw/<dataset>/`` unchanged. Replace the body of
:func:`align` with your own step (synchronise devices, join sources, fix
encodings), keeping its input and output folders (declared in ``dvc.yaml``).
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.io import copy_directory
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def align(config: DictConfig) -> None:
    """Pass the raw snapshot through unchanged."""
    metadata = load_metadata()
    name = dataset_config(config).name
    target = metadata.stage_dir("raw_aligned") / name
    count = copy_directory(metadata.stage_dir("raw") / name, target)
    log.info("Passed %d files through to %s", count, target)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(align)


if __name__ == "__main__":
    main()
