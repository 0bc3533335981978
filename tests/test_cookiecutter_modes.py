"""The ways users run cookiecutter all work: --no-input, --config-file, --replay, extra context."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tests.checks import project_files
from tools.project import TEMPLATE_DIR


def cookiecutter_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `cookiecutter` command line on this template."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        # cookiecutter leaves its rendered hooks in the temporary folder: use the session's
        env={**os.environ, "TMPDIR": tempfile.gettempdir()},
    )


def user_config(tmp_path: Path, default_context: dict[str, str]) -> Path:
    """A cookiecutter user config with its own replay folder and defaults."""
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "default_context": default_context,
                "replay_dir": str(tmp_path / "replay"),
                "cookiecutters_dir": str(tmp_path / "cookiecutters"),
            }
        ),
        encoding="utf-8",
    )
    return config


def snapshot(project: Path) -> dict[str, str]:
    return {
        str(path.relative_to(project)): path.read_text(encoding="utf-8")
        for path in project_files(project)
    }


def test_user_defaults_from_a_config_file_are_used(tmp_path: Path) -> None:
    config = user_config(tmp_path, {"author_name": "Grace Hopper", "license": "Apache-2.0"})

    result = cookiecutter_cli(
        "--no-input", "--config-file", str(config), "-o", "out", str(TEMPLATE_DIR), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    project = tmp_path / "out" / "my-ml-project"
    metadata = yaml.safe_load((project / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["owner"]["name"] == "Grace Hopper"
    assert metadata["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (project / "LICENSE").read_text(encoding="utf-8")


def test_command_line_answers_override_the_defaults(tmp_path: Path) -> None:
    config = user_config(tmp_path, {"author_name": "Grace Hopper"})

    result = cookiecutter_cli(
        "--no-input",
        "--config-file",
        str(config),
        "-o",
        "out",
        str(TEMPLATE_DIR),
        "project_name=Fraud Detection",
        "author_name=Katherine Johnson",
        "ci=none",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    project = tmp_path / "out" / "fraud-detection"
    metadata = yaml.safe_load((project / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["owner"]["name"] == "Katherine Johnson"
    assert metadata["project"]["package"] == "fraud_detection"
    assert not (project / ".github").exists()


def test_replay_regenerates_the_same_project(tmp_path: Path) -> None:
    config = user_config(tmp_path, {})
    first = cookiecutter_cli(
        "--no-input",
        "--config-file",
        str(config),
        "-o",
        "first",
        str(TEMPLATE_DIR),
        "project_name=Sleep Staging",
        "license=BSD-3-Clause",
        "serving=none",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr

    again = cookiecutter_cli(
        "--replay", "--config-file", str(config), "-o", "again", str(TEMPLATE_DIR), cwd=tmp_path
    )

    assert again.returncode == 0, again.stderr
    assert snapshot(tmp_path / "again" / "sleep-staging") == snapshot(
        tmp_path / "first" / "sleep-staging"
    )


def test_the_rerun_command_of_a_rejected_answer_keeps_every_other_answer(tmp_path: Path) -> None:
    config = user_config(tmp_path, {})
    answers = ["author_name=Ada Lovelace", "pipeline=skeleton", "aws_region=europe"]

    rejected = cookiecutter_cli(
        "--no-input", "--config-file", str(config), str(TEMPLATE_DIR), *answers, cwd=tmp_path
    )
    assert rejected.returncode != 0
    (command,) = [
        line for line in rejected.stderr.splitlines() if "cookiecutter --no-input" in line
    ]
    arguments = shlex.split(command.strip())[1:]  # the command line, without `cookiecutter`
    rerun = cookiecutter_cli("--config-file", str(config), *arguments, cwd=tmp_path)

    assert rerun.returncode == 0, rerun.stderr
    project = tmp_path / "my-ml-project"
    assert 'name = "Ada Lovelace"' in (project / "pyproject.toml").read_text()
    assert (project / "src/my_ml_project/stages/align.py").read_text().count("Skeleton") == 1
    assert 'region: "eu-west-1"' in (project / "metadata.yaml").read_text()
