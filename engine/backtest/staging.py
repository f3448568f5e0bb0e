"""A run's files are written beside their folder and swapped in only when the run succeeded."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """Write a run's files beside ``out_dir`` and swap them in only when the run succeeded.

    A run stopped by bad data (or anything else) leaves no half-written results,
    and an earlier complete result in ``out_dir`` survives the failed rerun.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
