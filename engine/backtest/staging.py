"""A run's files are written beside their folder and swapped in only when the run succeeded.

The staging folder (``.<name>.<random>`` beside the output folder) records
its owner (:mod:`engine.runtime.owners`); a run killed before the swap
leaves it behind, and the next run in the same parent folder removes every
staging folder whose owner is gone. Folders without an owner record, or
whose owner still runs, are never touched.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.runtime import owners


def remove_abandoned(parent: Path, prefix: str = ".") -> list[Path]:
    """Remove the folders named ``prefix...`` in ``parent`` whose owning process is gone; returns them."""
    removed = []
    try:
        candidates = [p for p in parent.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    except OSError:
        return removed
    for folder in candidates:
        if owners.abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """Write a run's files beside ``out_dir`` and swap them in only when the run succeeded.

    A run stopped by bad data (or anything else) leaves no half-written results,
    and an earlier complete result in ``out_dir`` survives the failed rerun.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(out_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        owners.mark(staging)
        yield staging
        owners.unmark(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
