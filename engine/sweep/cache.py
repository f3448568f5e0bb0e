"""Parsed data cached as numpy columns keyed by the file's content, so a sweep parses each file once.

Why: parsing CSV is the one part of a backtest that is the same for every
parameter set. A :class:`ColumnStore` serves columns from, in order, its
in-process memo, the disk cache (one ``.npz`` per file content and parse
options), or the parser, which then fills both. The key covers the file's
bytes, the parse options and the parser's own source, so an edited file or
a changed parser is a miss, never a stale hit. Entries are written to a
temporary file and renamed into place (atomic on POSIX), so a reader never
sees half an entry however many processes write the same key; a per-key
``flock`` makes the other processes on the machine wait for the first
parse and read its result instead of parsing again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from engine.backtest.run_id import file_digest
from hub.messages import Bar

CACHE_VERSION = 2
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
SKIP_SAMPLES = 20  # bad-row descriptions kept per entry; the count is always exact
DEFAULT_MEMO_BYTES = 1 << 30
BATCH = 4096  # bars per replay batch: the loop yields between batches, as for a parsed stream


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/engine/columns`` (``~/.cache/engine/columns``): per user, survives reruns."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "engine" / "columns"


@dataclass(frozen=True)
class ParseOptions:
    """What ``open_stream``/``load_columns`` are told besides the path: part of the cache key."""

    format: str = "auto"
    columns: tuple[tuple[str, str], ...] = ()
    skip_bad: bool = False
    instrument: str | None = None

    @classmethod
    def from_data_config(cls, data: Any) -> ParseOptions:
        return cls(format=data.format, columns=tuple(sorted((data.columns or {}).items())),
                   skip_bad=bool(data.skip_bad), instrument=data.instrument)

    def kwargs(self) -> dict[str, Any]:
        return {"format": self.format, "columns": dict(self.columns) or None,
                "skip_bad": self.skip_bad, "instrument": self.instrument}


@dataclass(frozen=True)
class Columns:
    """One file's bars as columns: ``ts`` int64 ns, prices and volume float64, the instrument."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    instrument: str | np.ndarray  # one name for the file, or one per row
    skipped_count: int = 0
    skipped: tuple[str, ...] = ()  # the first SKIP_SAMPLES bad rows, as text
    filtered_count: int = 0  # rows a format rule leaves out (A-share isopen=false)

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def nbytes(self) -> int:
        arrays = [self.ts, *(getattr(self, c) for c in PRICE_COLUMNS)]
        if isinstance(self.instrument, np.ndarray):
            arrays.append(self.instrument)
        return sum(a.nbytes for a in arrays)

    @property
    def instrument_name(self) -> str:
        """The instrument, or the distinct ones joined by '+' when the file holds several."""
        if isinstance(self.instrument, str):
            return self.instrument
        return "+".join(dict.fromkeys(self.instrument.tolist())) or "?"

    def bars(self) -> Iterator[Bar]:
        """The Bar messages the parser would have streamed, built lazily from the columns."""
        names = repeat(self.instrument) if isinstance(self.instrument, str) else self.instrument.tolist()
        return map(Bar, self.ts.tolist(), names, *(getattr(self, c).tolist() for c in PRICE_COLUMNS))

    __iter__ = bars

    def batches(self, size: int = BATCH) -> Iterator[list[Bar]]:
        """Lists of Bars, as ``BarStream.batches`` gives them to ``run_pipeline``'s replay loop."""
        for start in range(0, len(self.ts), size):
            part = slice(start, start + size)
            names = (repeat(self.instrument, len(self.ts[part])) if isinstance(self.instrument, str)
                     else self.instrument[part].tolist())
            yield list(map(Bar, self.ts[part].tolist(), names, *(getattr(self, c)[part].tolist() for c in PRICE_COLUMNS)))


@dataclass(frozen=True)
class Loaded:
    columns: Columns
    digest: str  # sha256 of the file, as engine.backtest.run_id.file_digest computes it
    source: str  # "memo", "disk" or "parsed"
    seconds: float  # time to get the columns (hash + read or parse)


def parser_fingerprint() -> str:
    """A hash of the parser's source files: a new parser version invalidates every entry."""
    digest = hashlib.sha256(f"engine.sweep.cache v{CACHE_VERSION}".encode())
    try:
        import engine.data as market_data
    except ImportError:  # pragma: no cover - the parser is part of the project
        return digest.hexdigest()
    for root in sorted(market_data.__path__):
        for path in sorted(Path(root).rglob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def parse_with_market_data(path: Path, options: ParseOptions) -> Columns:
    """Parse with the project's parser, the same one ``python -m engine backtest`` streams from."""
    from engine.data import load_columns

    parsed, report = load_columns(str(path), **options.kwargs())
    return columns_from(parsed, report.skipped, len(report.filtered))


def columns_from(parsed: Any, skipped: Sequence[Any] = (), filtered: int = 0) -> Columns:
    """Adapt the parser's ``BarColumns`` (instrument, ts, open, high, low, close, volume) to :class:`Columns`."""
    instrument = parsed.instrument
    if isinstance(instrument, np.ndarray) and instrument.size and (instrument == instrument[0]).all():
        instrument = str(instrument[0])
    return Columns(
        ts=np.ascontiguousarray(parsed.ts, dtype=np.int64),
        **{c: np.ascontiguousarray(getattr(parsed, c), dtype=np.float64) for c in PRICE_COLUMNS},
        instrument=instrument if isinstance(instrument, np.ndarray) else str(instrument),
        skipped_count=len(skipped),
        skipped=tuple(str(s) for s in list(skipped)[:SKIP_SAMPLES]),
        filtered_count=filtered,
    )


def write_entry(path: Path, columns: Columns) -> None:
    """Write one cache entry atomically: a private temporary file, flushed, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {c: getattr(columns, c) for c in ("ts", *PRICE_COLUMNS)}
    arrays["instrument"] = np.asarray(columns.instrument, dtype=str)
    arrays["skipped_count"] = np.asarray(columns.skipped_count, dtype=np.int64)
    arrays["skipped"] = np.asarray(columns.skipped, dtype=str)
    arrays["filtered_count"] = np.asarray(columns.filtered_count, dtype=np.int64)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_entry(path: Path) -> Columns | None:
    """An entry, or None when absent or unreadable (then it is parsed and rewritten)."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            instrument = data["instrument"]
            return Columns(
                ts=data["ts"], **{c: data[c] for c in PRICE_COLUMNS},
                instrument=str(instrument) if instrument.ndim == 0 else instrument,
                skipped_count=int(data["skipped_count"]),
                skipped=tuple(data["skipped"].tolist()),
                filtered_count=int(data["filtered_count"]),
            )
    except (FileNotFoundError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


class ColumnStore:
    """Columns for data files: memo, then disk cache, then the parser (one per worker process).

    Safe to share between the threads of a Dask worker: the memo is locked,
    and two threads parsing one file queue on its flock like two processes.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        parse: Callable[[Path, ParseOptions], Columns] = parse_with_market_data,
        memo_bytes: int = DEFAULT_MEMO_BYTES,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._parse = parse
        self._memo_bytes = memo_bytes
        self._memo: OrderedDict[str, Columns] = OrderedDict()
        self._digests: dict[tuple[Any, ...], str] = {}
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self.parsed = 0  # files this process parsed
        self.disk_hits = 0
        self.memo_hits = 0

    def digest(self, path: Path) -> str:
        """The file's sha256, re-hashed only when its size, mtime or inode changes."""
        st = os.stat(path)
        stamp = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        with self._lock:
            digest = self._digests.get(stamp)
        if digest is None:
            digest = file_digest(path)
            with self._lock:
                self._digests[stamp] = digest
        return digest

    def key(self, digest: str, options: ParseOptions) -> str:
        if self._fingerprint is None:
            self._fingerprint = parser_fingerprint()
        payload = json.dumps([digest, options.kwargs(), self._fingerprint], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:40]

    def entry_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npz"

    def load(self, path: str | Path, options: ParseOptions = ParseOptions()) -> Loaded:
        """Columns for ``path``; raises what the parser raises for a bad file (never cached)."""
        t0 = time.perf_counter()
        path = Path(path)
        digest = self.digest(path)
        key = self.key(digest, options)
        with self._lock:
            columns = self._memo.get(key)
            if columns is not None:
                self._memo.move_to_end(key)
                self.memo_hits += 1
        if columns is not None:
            return Loaded(columns, digest, "memo", time.perf_counter() - t0)
        entry = self.entry_path(key)
        columns = read_entry(entry)
        source = "disk"
        if columns is None:
            columns, source = self._parse_once(path, options, entry, digest)
        if source == "disk":
            self.disk_hits += 1
        self._remember(key, columns)
        return Loaded(columns, digest, source, time.perf_counter() - t0)

    def _parse_once(self, path: Path, options: ParseOptions, entry: Path, digest: str) -> tuple[Columns, str]:
        """Parse under the key's lock, unless another process wrote the entry while we waited.

        A file rewritten during the parse is not cached under its old digest.
        """
        entry.parent.mkdir(parents=True, exist_ok=True)
        with open(entry.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                columns = read_entry(entry)
                if columns is not None:
                    return columns, "disk"
                columns = self._parse(path, options)
                self.parsed += 1
                if file_digest(path) == digest:
                    write_entry(entry, columns)
                return columns, "parsed"
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _remember(self, key: str, columns: Columns) -> None:
        with self._lock:
            self._memo[key] = columns
            total = sum(c.nbytes for c in self._memo.values())
            while total > self._memo_bytes and len(self._memo) > 1:
                _, dropped = self._memo.popitem(last=False)
                total -= dropped.nbytes
