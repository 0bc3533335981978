"""Every config option composes, and the DVC pipeline refers to real parameters and files."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.config import (
    CONFIG_NAME,
    PARAMS_FILE,
    write_params,
)
from {{ cookiecutter.package_name }}.data.experiment import ExperimentData
from {{ cookiecutter.package_name }}.modeling import build_model

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONF = PROJECT_ROOT / "conf"
OPTIONS = [
    (group.name, option.stem)
    for group in sorted(CONF.iterdir())
    if group.is_dir()
    for option in sorted(group.glob("*.yaml"))
]
# Groups that configure Hydra itself (launcher), and the plugin each option selects.
HYDRA_PLUGIN_OF = {
    ("launcher", "joblib"): ("launcher", "JoblibLauncher"),
    ("launcher", "slurm"): ("launcher", "SlurmLauncher"),
}


def dvc_pipeline() -> dict[str, Any]:
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    assert isinstance(pipeline, dict)
    return pipeline


def test_every_group_has_options() -> None:
    groups = {group for group, _ in OPTIONS}
    assert {
        "env",
        "data",
        "preprocessing",
        "model",
        "train",
        "tracking",
        "hparams_search",
        "launcher",
    } <= groups
    assert {option for group, option in OPTIONS if group == "env"} == {"dev", "staging", "prod"}
    assert len([option for group, option in OPTIONS if group == "model"]) >= 2


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_every_option_composes(group: str, option: str) -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        config = compose(CONFIG_NAME, overrides=[f"{group}={option}"], return_hydra_config=True)

    OmegaConf.resolve(config)
    if (group, option) in HYDRA_PLUGIN_OF:
        node, plugin = HYDRA_PLUGIN_OF[group, option]
        assert plugin in config.hydra[node]._target_
    if group in ("model", "preprocessing"):
        for task in ("classification", "regression"):
            experiment = ExperimentData(
                "any", task, "label", {"x": "numeric", "kind": "categorical"}
            )
            assert hasattr(build_model(config.model, config.preprocessing, experiment), "fit")


def test_params_file_is_the_resolved_composition(scratch_project: Path) -> None:
    path = write_params(["model=logistic_regression", "train.seed=3"], root=scratch_project)

    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert path == scratch_project / PARAMS_FILE
    assert params["model"]["name"] == "logistic_regression"
    assert params["train"]["seed"] == 3
    assert "${" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", list(dvc_pipeline()["stages"]))
def test_dvc_stage_parameters_exist(stage: str, scratch_project: Path) -> None:
    params = OmegaConf.load(write_params(root=scratch_project))
    absent = object()

    for key in dvc_pipeline()["stages"][stage].get("params", []):
        assert OmegaConf.select(params, key, default=absent) is not absent, f"{stage}: no {key}"


@pytest.mark.parametrize("stage", list(dvc_pipeline()["stages"]))
def test_dvc_stage_code_dependencies_exist(stage: str) -> None:
    package = yaml.safe_load((PROJECT_ROOT / "metadata.yaml").read_text())["project"]["package"]

    for dependency in dvc_pipeline()["stages"][stage]["deps"]:
        if dependency.startswith("src/"):
            path = PROJECT_ROOT / dependency.replace("${project.package}", package)
            assert path.is_file(), f"{stage}: {path} does not exist"
