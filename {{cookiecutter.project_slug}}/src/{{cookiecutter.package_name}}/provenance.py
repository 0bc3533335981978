"""Where a model came from: the code's git commit and the data's DVC hash.

Both are recorded on the training run, so a registered version leads back to the
exact code and experiment data that made it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml


def git_commit(root: Path) -> str | None:
    """Return the commit checked out in ``root``, or None outside git."""
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def dvc_output_hash(root: Path, output: Path) -> str | None:
    """Return the hash DVC recorded in ``dvc.lock`` for a stage output, if any."""
    lock_file = root / "dvc.lock"
    if not lock_file.is_file():
        return None
    wanted = output.resolve().relative_to(root.resolve()).as_posix()
    lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            if out.get("path") == wanted:
                return str(out.get("md5") or out.get("hash") or "") or None
    return None


def short_hash(data_version: str | None) -> str:
    """A data version as titles and captions show it: DVC's hash, shortened like git's."""
    return data_version[:8] if data_version else "not tracked by DVC"
