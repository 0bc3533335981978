"""The ingest stage on the configured source: a faithful snapshot and its record."""

import hashlib
import json

from {{ cookiecutter.package_name }}.data.dataset import DatasetConfig
from {{ cookiecutter.package_name }}.data.sources import MANIFEST_FILE, local_files
from {{ cookiecutter.package_name }}.metadata import Metadata


def test_ingest_copies_the_source_byte_for_byte(staged: tuple[DatasetConfig, Metadata]) -> None:
    dataset, metadata = staged
    raw = metadata.stage_dir("raw") / dataset.name

    manifest = json.loads((raw / MANIFEST_FILE).read_text())
    assert manifest["files"]
    for entry in manifest["files"]:
        content = (raw / entry["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    if isinstance(dataset.source, str) and not dataset.source.startswith("s3://"):
        originals = {path.read_bytes() for path in local_files(dataset.source, metadata)}
        assert {(raw / entry["path"]).read_bytes() for entry in manifest["files"]} == originals
