"""The monitor's settings: the Hydra ``monitor`` config group (``conf/monitor/``), validated."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from pydantic import Field, ValidationError

from ..config import ConfigError, compose_config
from ..strict import StrictModel, field_problems

CONFIG_GROUP = "monitor"
DEFAULT_OPTION = "default"


class Thresholds(StrictModel):
    """When a difference between a batch and the reference raises an alarm."""

    false_alarm_rate: float = Field(default=0.05, gt=0, lt=1)
    min_drift: float = Field(default=0.1, ge=0, le=1)
    min_missing_increase: float = Field(default=0.05, ge=0, le=1)
    min_out_of_range: float = Field(default=0.01, ge=0, le=1)
    min_unseen: float = Field(default=0.01, ge=0, le=1)
    max_metric_drop: float = Field(default=0.05, ge=0)
    min_labelled_rows: int = Field(default=50, ge=1)


class MonitorSettings(StrictModel):
    """The validated ``monitor`` node."""

    thresholds: Thresholds = Field(default_factory=Thresholds)
    window_hours: float = Field(default=24.0, gt=0)


def load_monitor_settings(
    overrides: Sequence[str] = (), root: Path | None = None
) -> tuple[MonitorSettings, DictConfig]:
    """Compose ``conf/monitor/default.yaml`` with overrides; return it and the whole config.

    Raises:
        ConfigError: A setting breaks its rule; the message names the file and field.
    """
    option = f"{CONFIG_GROUP}={DEFAULT_OPTION}"
    try:  # config.yaml's defaults list `monitor: null`; a config without it gets it added
        config = compose_config([option, *overrides], root)
    except ConfigCompositionException:
        config = compose_config([f"+{option}", *overrides], root)
    values = OmegaConf.to_container(config[CONFIG_GROUP], resolve=True)
    try:
        settings = MonitorSettings.model_validate(values)
    except ValidationError as error:
        problems = field_problems(error)
        raise ConfigError(
            f"conf/{CONFIG_GROUP}/{DEFAULT_OPTION}.yaml has unusable settings:\n{problems}"
        ) from None
    return settings, config
