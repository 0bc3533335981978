"""The skeleton pipeline passes files from stage to stage, and runs with no data at all."""

import json
from pathlib import Path

from {{ cookiecutter.package_name }}.config import compose_config
from {{ cookiecutter.package_name }}.metadata import load_metadata
from {{ cookiecutter.package_name }}.stages.align import align
from {{ cookiecutter.package_name }}.stages.build_experiment import build_experiment
from {{ cookiecutter.package_name }}.stages.evaluate import evaluate
from {{ cookiecutter.package_name }}.stages.ingest import ingest
from {{ cookiecutter.package_name }}.stages.process import process
from {{ cookiecutter.package_name }}.stages.train import train


def run_all(overrides: list[str], root: Path) -> dict[str, float]:
    config = compose_config(overrides, root=root)
    for stage in (ingest, align, process, build_experiment, train):
        stage(config)
    return evaluate(config)


def test_files_flow_through_every_stage(scratch_project: Path, tmp_path: Path) -> None:
    source = tmp_path / "source" / "walking" / "p001"
    source.mkdir(parents=True)
    (source / "20260312T101500_heart_rate.csv").write_text("timestamp,bpm\n0,72\n")

    metrics = run_all([f"data.ingest.source={tmp_path / 'source'}"], scratch_project)

    metadata = load_metadata()
    copied = "walking/p001/20260312T101500_heart_rate.csv"
    for stage in ("raw", "raw_aligned", "processed"):
        assert (metadata.stage_dir(stage) / metadata.project.slug / copied).is_file()
    assert (metadata.stage_dir("experiment") / "default" / copied).is_file()
    assert metrics == {"input_files": 1.0}
    saved = json.loads((scratch_project / "results" / "metrics.json").read_text())
    assert saved == metrics


def test_pipeline_runs_before_any_source_is_configured(scratch_project: Path) -> None:
    assert run_all([], scratch_project) == {"input_files": 0.0}
