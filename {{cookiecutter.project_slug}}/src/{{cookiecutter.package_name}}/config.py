"""Compose the pipeline configuration and run stages as Hydra applications.

The configuration lives in ``conf/`` as Hydra config groups. Two ways read it:

* interactively, every stage is a Hydra application over ``conf/``:
  ``python -m {{ cookiecutter.package_name }}.stages.train model=logistic_regression``,
  including multirun sweeps (``-m hparams_search=optuna``);
* in the DVC pipeline, stages read ``params.yaml``, the composed configuration
  that ``make params`` (or ``dvc exp run``) writes, so DVC knows exactly which
  parameters each stage used.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from .data.dataset import dataset_config
from .data.errors import DataValidationError
from .metadata import MetadataError, find_project_root

CONFIG_DIR = "conf"
CONFIG_NAME = "config"
PARAMS_FILE = "params.yaml"

log = logging.getLogger(__name__)

Stage = Callable[[DictConfig], object]


class ConfigError(ValueError):
    """The configuration asks for something that cannot work; the message says how to fix it."""


def config_dir(root: Path | None = None) -> Path:
    """Return the project's Hydra config folder."""
    return (root or find_project_root()) / CONFIG_DIR


def name_dataset(config: DictConfig, choice: str | None) -> DictConfig:
    """Set ``data.name`` to the chosen ``conf/data/`` option unless the file names itself."""
    if "data" in config and choice and not config.data.get("name"):
        with open_dict(config):
            config.data.name = choice
    return config


def compose_config(overrides: Sequence[str] = (), root: Path | None = None) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides, as DVC does for ``params.yaml``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir(root)), version_base="1.3"):
        config = compose(
            config_name=CONFIG_NAME, overrides=list(overrides), return_hydra_config=True
        )
    choice = config.hydra.runtime.choices.get("data")
    with open_dict(config):
        del config["hydra"]
    return name_dataset(config, choice)


def write_params(overrides: Sequence[str] = (), root: Path | None = None) -> Path:
    """Write the composed, resolved configuration to ``params.yaml`` and return its path."""
    root = root or find_project_root()
    config = compose_config(overrides, root)
    OmegaConf.resolve(config)
    # Every dataset setting, defaults included, so DVC can track each one.
    config.data = OmegaConf.create(dataset_config(config).model_dump(mode="json"))
    path = root / PARAMS_FILE
    path.write_text(OmegaConf.to_yaml(config), encoding="utf-8")
    return path


def run_stage(stage: Stage) -> None:
    """Run ``stage`` as a Hydra application over the project's ``conf/`` folder.

    Command-line arguments are Hydra's: overrides such as ``model=logistic_regression``,
    ``-m`` for sweeps, or ``--config-dir . --config-name params`` to read
    ``params.yaml`` as the DVC pipeline does. Data and metadata errors end the
    run with their message instead of a traceback.
    """

    def app(config: DictConfig) -> object:
        logging.getLogger().setLevel(config.env.log_level)
        name_dataset(config, HydraConfig.get().runtime.choices.get("data"))
        try:
            return stage(config)
        except (DataValidationError, MetadataError, ConfigError) as error:
            log.error("%s", error)
            raise SystemExit(1) from error

    app.__name__ = getattr(stage, "__name__", "stage")
    hydra.main(version_base="1.3", config_path=str(config_dir()), config_name=CONFIG_NAME)(app)()


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``params.yaml`` (``make params``); arguments are Hydra overrides."""
    overrides = list(sys.argv[1:] if argv is None else argv)
    try:
        path = write_params(overrides)
    except (MetadataError, DataValidationError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
