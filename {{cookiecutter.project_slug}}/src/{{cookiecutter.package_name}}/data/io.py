"""Atomic outputs: a stage that fails part-way leaves the previous output untouched.

Everything is first written next to its destination (same folder, so the final
rename never crosses a file system) and moved into place only once complete.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def _sibling(target: Path, purpose: str) -> Path:
    """Return an unused hidden path next to ``target``."""
    return target.with_name(f".{target.name}.{purpose}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a folder under a temporary name and swap it in only when complete.

    Example:
        >>> with atomic_directory(Path("data/raw/my-project")) as folder:  # doctest: +SKIP
        ...     (folder / "sessions.csv").write_text("...")

    Args:
        target: The folder to create or replace.

    Yields:
        An empty folder next to ``target``. On normal exit it replaces
        ``target``; if the block raises, it is deleted and ``target`` is left
        as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(target, "tmp")
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, target)


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging``, restoring the old folder if the move fails."""
    if not target.exists():
        staging.rename(target)
        return
    backup = _sibling(target, "old")
    target.rename(backup)
    try:
        staging.rename(target)
    except BaseException:
        backup.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(backup)


def atomic_write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (without its index) to a Parquet file, atomically.

    Args:
        frame: The table to write.
        path: The destination; its folder is created if needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _sibling(path, "tmp")
    try:
        frame.to_parquet(partial, index=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def atomic_write_bytes(data: bytes, path: Path) -> None:
    """Replace ``path`` with ``data`` in one step: a reader sees the old file or the new one."""
    partial = _sibling(path, "tmp")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def copy_directory(source: Path, target: Path) -> int:
    """Replace ``target`` with a copy of ``source`` (empty if ``source`` is missing).

    Returns:
        The number of files copied.
    """
    with atomic_directory(target) as staging:
        if source.is_dir():
            shutil.copytree(source, staging, dirs_exist_ok=True)
        return sum(1 for path in staging.rglob("*") if path.is_file())
