"""Service settings: the Hydra ``serve`` config group, then environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from ..config import compose_config
from ..inference import ModelReference
from ..metadata import load_metadata

CONFIG_GROUP = "serve"
DEFAULT_OPTION = "default"


class SettingsError(ValueError):
    """A setting has a value the service cannot use; the message names it."""


@dataclass(frozen=True)
class ServeSettings:
    """What the service loads and the limits it enforces on requests."""

    model_name: str
    model_alias: str = "champion"
    model_version: str | None = None
    model_uri: str | None = None
    max_batch_rows: int = 1000
    max_body_bytes: int = 1_048_576
    load_wait_seconds: float = 60.0
    body_timeout_seconds: float = 10.0
    threads: int = 32
    merge_requests: bool = True
    batch_wait_seconds: float = 0.05
    log_sample_rate: float = 1.0
    log_max_bytes: int = 64 * 1024 * 1024
    log_max_age_seconds: float = 3600.0
    prediction_log_dir: Path | None = None  # None: no prediction log
    # Where the model process listens (``model_process``); None: the model is loaded
    # in this process. Set by ``gunicorn_conf`` for its workers, not by people.
    model_socket: Path | None = None

    def __post_init__(self) -> None:
        """Reject limits that would refuse every request."""
        if not 0 <= self.log_sample_rate <= 1:
            raise SettingsError(f"log_sample_rate must be 0 to 1, got {self.log_sample_rate}")
        if self.log_max_bytes < 1 or self.log_max_age_seconds <= 0:
            raise SettingsError("log_max_bytes and log_max_age_seconds must be positive")
        if self.max_batch_rows < 1:
            raise SettingsError(f"max_batch_rows must be at least 1, got {self.max_batch_rows}")
        if self.max_body_bytes < 2:
            raise SettingsError(f"max_body_bytes must be at least 2, got {self.max_body_bytes}")
        if self.body_timeout_seconds <= 0:
            raise SettingsError(
                f"body_timeout_seconds must be positive, got {self.body_timeout_seconds}"
            )
        if self.threads < 1:
            raise SettingsError(f"threads must be at least 1, got {self.threads}")
        if self.load_wait_seconds < 0:
            raise SettingsError(f"load_wait_seconds must be >= 0, got {self.load_wait_seconds}")
        if not 0 <= self.batch_wait_seconds <= 1:
            raise SettingsError(
                f"batch_wait_seconds must be 0 to 1 (seconds), got {self.batch_wait_seconds}"
            )

    @property
    def reference(self) -> ModelReference:
        """The registry entry to load when no ``model_uri`` is given."""
        return ModelReference(self.model_name, self.model_alias, self.model_version)

    @property
    def uri(self) -> str:
        """The URI MLflow loads: ``model_uri`` if set, else the registry reference."""
        return self.model_uri or self.reference.uri


ENV_OVERRIDES = {
    "MODEL_URI": "model_uri",
    "MODEL_ALIAS": "model_alias",
    "MODEL_VERSION": "model_version",
    "MAX_BATCH_ROWS": "max_batch_rows",
    "MAX_BODY_BYTES": "max_body_bytes",
    "LOAD_WAIT_SECONDS": "load_wait_seconds",
    "BODY_TIMEOUT_SECONDS": "body_timeout_seconds",
    "THREADS": "threads",
    "MERGE_REQUESTS": "merge_requests",
    "BATCH_WAIT_SECONDS": "batch_wait_seconds",
    "LOG_SAMPLE_RATE": "log_sample_rate",
    "MODEL_SOCKET": "model_socket",
}


def _boolean(value: str) -> bool:
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    return words[value.lower()]  # KeyError: not a yes/no word


# How to read the fields that are not text, and how to say what they must be.
PARSERS: dict[str, tuple[Callable[[str], object], str]] = {
    "max_batch_rows": (int, "a number (int)"),
    "max_body_bytes": (int, "a number (int)"),
    "load_wait_seconds": (float, "a number (float)"),
    "body_timeout_seconds": (float, "a number (float)"),
    "threads": (int, "a number (int)"),
    "merge_requests": (_boolean, "true or false"),
    "batch_wait_seconds": (float, "a number of seconds from 0 to 1"),
    "log_sample_rate": (float, "a number from 0 to 1"),
    "model_socket": (Path, "a path"),
}


def _from_env(settings: ServeSettings, environ: Mapping[str, str]) -> ServeSettings:
    changes: dict[str, object] = {}
    for variable, field in ENV_OVERRIDES.items():
        value = environ.get(variable, "").strip()
        if not value:
            continue
        if field in PARSERS:
            parse, expected = PARSERS[field]
            try:
                changes[field] = parse(value)
            except (KeyError, ValueError):
                raise SettingsError(f"{variable} must be {expected}, got {value!r}") from None
        else:
            changes[field] = value
    if "model_alias" in changes and "model_version" not in changes:
        changes["model_version"] = None  # an explicit alias beats a configured version
    return replace(settings, **changes)  # type: ignore[arg-type]


def load_settings(
    overrides: Sequence[str] = (),
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServeSettings:
    """Compose ``conf/serve/<option>.yaml`` with Hydra overrides, then apply the environment.

    Args:
        overrides: Hydra overrides such as ``serve.max_batch_rows=10``.
        root: The project root; found from the working directory by default.
        environ: The environment to read overrides from (``os.environ`` by default).
    """
    metadata = load_metadata(root / "metadata.yaml" if root else None)
    option = (environ or os.environ).get("SERVE_CONFIG", DEFAULT_OPTION)
    try:  # `serve` is not in config.yaml's defaults list unless someone uncommented it
        config = compose_config([f"+{CONFIG_GROUP}={option}", *overrides], metadata.root)
    except ConfigCompositionException:
        config = compose_config([f"{CONFIG_GROUP}={option}", *overrides], metadata.root)
    values = OmegaConf.to_container(config[CONFIG_GROUP], resolve=True)
    assert isinstance(values, dict)
    known = {key: value for key, value in values.items() if key in ServeSettings.__annotations__}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s) in conf/{CONFIG_GROUP}/{option}.yaml: {unknown}")
    model_name = metadata.registered_model_name(str(config.data.name))
    log_dir = metadata.prediction_log_dir(model_name)
    settings = ServeSettings(model_name=model_name, prediction_log_dir=log_dir, **known)
    return _from_env(settings, os.environ if environ is None else environ)
