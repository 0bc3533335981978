"""metadata.yaml is valid, and the loader explains what is wrong when it is not."""

import re
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.metadata import (
    METADATA_FILE,
    STAGES,
    MetadataError,
    find_project_root,
    load_metadata,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def metadata_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's metadata.yaml."""
    copy = tmp_path / METADATA_FILE
    copy.write_text((PROJECT_ROOT / METADATA_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def rewrite(path: Path, change: dict[str, dict[str, object]]) -> None:
    """Merge ``change`` into the sections of the YAML file at ``path``."""
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section, values in change.items():
        content[section].update(values)
    path.write_text(yaml.safe_dump(content), encoding="utf-8")


def test_project_metadata_matches_the_schema() -> None:
    metadata = load_metadata(PROJECT_ROOT / METADATA_FILE)

    assert metadata.project.package == "{{ cookiecutter.package_name }}"
    assert metadata.root == PROJECT_ROOT
    assert list(metadata.data_stages) == list(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_folder_exists_and_says_what_belongs_there(stage: str) -> None:
    metadata = load_metadata(PROJECT_ROOT / METADATA_FILE)
    folder = metadata.stage_dir(stage)  # type: ignore[arg-type]

    assert folder.is_dir()
    assert (folder / "README.md").read_text(encoding="utf-8").strip()


def test_stage_uri_is_under_the_project_prefix() -> None:
    metadata = load_metadata(PROJECT_ROOT / METADATA_FILE)
    bucket_and_prefix = metadata.storage.uri()

    assert metadata.stage_uri("raw") == f"{bucket_and_prefix}/data/raw"
    assert bucket_and_prefix.startswith(f"s3://{metadata.storage.bucket}")


def test_project_root_is_found_from_a_subfolder() -> None:
    assert find_project_root(PROJECT_ROOT / "src") == PROJECT_ROOT


def test_outside_the_project_the_error_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"No metadata\.yaml found"):
        find_project_root(tmp_path)


def test_a_missing_field_is_named(metadata_copy: Path) -> None:
    content = yaml.safe_load(metadata_copy.read_text(encoding="utf-8"))
    del content["owner"]["email"]
    metadata_copy.write_text(yaml.safe_dump(content), encoding="utf-8")

    with pytest.raises(MetadataError, match=r"owner\.email: Field required"):
        load_metadata(metadata_copy)


def test_a_typo_in_a_key_is_an_error(metadata_copy: Path) -> None:
    rewrite(metadata_copy, {"tracking": {"urii": "sqlite:///mlflow.db"}})

    with pytest.raises(MetadataError, match=r"tracking\.urii: Extra inputs are not permitted"):
        load_metadata(metadata_copy)


def test_a_stage_outside_the_project_is_rejected(metadata_copy: Path) -> None:
    rewrite(metadata_copy, {"data_stages": {"raw": {"path": "/mnt/raw", "description": "x"}}})

    with pytest.raises(MetadataError, match=r"data_stages\.raw\.path: .*inside the project"):
        load_metadata(metadata_copy)


def test_a_missing_stage_is_named(metadata_copy: Path) -> None:
    content = yaml.safe_load(metadata_copy.read_text(encoding="utf-8"))
    del content["data_stages"]["processed"]
    metadata_copy.write_text(yaml.safe_dump(content), encoding="utf-8")

    with pytest.raises(MetadataError, match="missing: processed"):
        load_metadata(metadata_copy)


def test_broken_yaml_is_reported_with_the_file_name(metadata_copy: Path) -> None:
    metadata_copy.write_text("project: [unclosed", encoding="utf-8")

    with pytest.raises(MetadataError, match=f"Cannot read {re.escape(str(metadata_copy))}"):
        load_metadata(metadata_copy)
