"""What a sweep checks before it spends anything: where its results go, and where its cache is.

* The output folder must be writable now, not after every backtest ran; it
  is locked while the sweep writes (a second sweep into it at the same time
  is refused), and one that already holds a sweep's tables is refused unless
  ``--force`` (``[sweep] force``) says to replace them.
* The cache folder must be usable; if it is not, the sweep runs uncached
  and says so (slower, same results).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.runtime.owners import Busy, FolderLock
from engine.sweep.cache import default_cache_dir, unusable

LOCK_FILE = ".sweep.lock"
RESULT_FILES = ("sweep.csv", "sweep.parquet")


class OutputError(ValueError):
    """The output folder cannot take this sweep's results."""


def claim_output(out_dir: Path, force: bool) -> FolderLock:
    """Check ``out_dir`` can be written and is this sweep's alone; the lock is held until released."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir}: not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
        lock = FolderLock(out_dir / LOCK_FILE)
    except Busy as exc:
        raise OutputError(f"--out {out_dir}: {exc}") from None
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None
    found = [name for name in RESULT_FILES if (out_dir / name).exists()]
    if found and not force:
        lock.release()
        raise OutputError(f"--out {out_dir} already holds a sweep's results ({', '.join(found)}); "
                          "--force (or [sweep] force = true) replaces them, or choose another --out")
    return lock


def cache_folder(given: str | None) -> tuple[str | None, str | None]:
    """(the cache folder to use, None) or (None, why the sweep runs uncached)."""
    folder = Path(given) if given else default_cache_dir()
    why = unusable(folder)
    if why is None:
        return str(folder), None
    return None, f"cache folder {folder} is not usable ({why}): running uncached, each worker parses its files"
