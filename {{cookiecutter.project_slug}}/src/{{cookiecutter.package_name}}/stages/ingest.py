"""Stage ``ingest``: snapshot the configured source into ``data/raw/<dataset>/``.

The source is ``source`` in ``conf/data/<dataset>.yaml``: a file or glob (keep your
own files in ``data/sources/``, which no stage writes), an ``s3://`` URI, or a SQL
query (see ``data.sources``). Files are copied as delivered; DVC versions the snapshot.
"""

from __future__ import annotations

import json
import logging

from omegaconf import DictConfig

from ..config import run_stage
from ..data.dataset import dataset_config
from ..data.sources import snapshot_source
from ..metadata import load_metadata

log = logging.getLogger(__name__)


def ingest(config: DictConfig) -> None:
    """Copy the source's files (or a query's result) into the raw stage."""
    metadata = load_metadata()
    dataset = dataset_config(config)
    manifest = snapshot_source(dataset.source, metadata.stage_dir("raw") / dataset.name, metadata)
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    log.info("Ingested %d file(s) into %s", len(files), manifest.parent)


def main() -> None:
    """Run the stage from the command line."""
    run_stage(ingest)


if __name__ == "__main__":
    main()
