"""The generated project's service image, assembled without a Docker engine.

No image can be built on a machine without Docker, yet what the image serves
with is worth testing and measuring. :func:`assemble` follows the project's own
`Dockerfile`, step by step, into one folder that stands for the image's `/app`:
the files its `COPY` lines name, the environment its `poetry install` lines
make, its `ENV` settings (with `/app` meaning that folder) and its `CMD`. A step
it does not know how to follow fails with the step named, so a change to the
Dockerfile is never silently skipped.

Both the build stage and the final one use `/app`, so both are the same folder
here: a virtual environment is not relocatable, and this one stays where it
was installed, as in the image.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tools.project import run

APP = "/app"  # the image's WORKDIR, in both stages
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class UnknownStep(RuntimeError):
    """The Dockerfile has a step this emulation does not follow."""


@dataclass
class Image:
    """What the image would hold: its folder, environment and command."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    @property
    def venv(self) -> Path:
        """The image's Python environment."""
        return self.root / ".venv"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    steps: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.partition(" ")
            steps.append((keyword.upper(), arguments.strip()))
            pending = ""
    return steps


def _expand(text: str, values: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced by ``values`` (empty when not there)."""
    return _VARIABLE.sub(lambda match: values.get(match[1] or match[2], ""), text)


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def assemble(project: Path, root: Path) -> Image:
    """Follow ``project``'s Dockerfile into ``root`` (created); return the image.

    ``RUN poetry ...`` runs with this machine's Poetry (the image installs the same
    version range with pip first); ``RUN pip install poetry...`` and the user
    creation are the only steps skipped.
    """
    root.mkdir(parents=True)
    image = Image(root)
    args: dict[str, str] = {}
    for keyword, arguments in instructions(project / "Dockerfile"):
        if keyword == "FROM":  # a stage starts with its own arguments and environment
            args, image.env = {}, {}
        elif keyword == "WORKDIR" and arguments != APP:
            raise UnknownStep(f"Dockerfile step WORKDIR {arguments}: only {APP} is followed here")
        elif keyword in {"WORKDIR", "USER", "EXPOSE", "HEALTHCHECK"}:
            continue
        elif keyword == "ARG":
            name, _, default = arguments.partition("=")
            args[name] = default.strip('"')
        elif keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                value = _expand(value, {"PATH": os.environ["PATH"], **args, **image.env})
                image.env[name] = value.replace(APP, str(root))
        elif keyword == "COPY":
            *sources, target = shlex.split(_expand(arguments, args))
            built = bool(sources) and sources[0].startswith("--from=")
            if built:  # from the build stage, which is this same folder
                continue
            destination = root / target.removeprefix(APP).lstrip("/")
            for source in sources:
                name = Path(source).name
                _copy(project / source, destination / name if target.endswith("/") else destination)
        elif keyword == "RUN" and arguments.startswith("poetry "):
            run(shlex.split(arguments), root, env=image.env, timeout=1800)
        elif keyword == "RUN" and (
            arguments.startswith("pip install") or arguments.startswith("useradd")
        ):
            continue
        elif keyword == "CMD":
            image.command = json.loads(arguments)
        else:
            raise UnknownStep(f"Dockerfile step {keyword} {arguments!r}: not followed here")
    return image
