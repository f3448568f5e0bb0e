"""Parsed data cached as numpy columns keyed by the file's content, so a sweep parses each file once.

Why: parsing CSV is the one part of a backtest that is the same for every
parameter set. A :class:`ColumnStore` serves columns from, in order, its
in-process memo, the disk cache (one ``.npz`` per file content and parse
options), or the parser, which then fills both. The key covers the file's
bytes, the parse options and the parser's own source, so an edited file or
a changed parser is a miss, never a stale hit.

An entry also records the sha256 of the file it was parsed from, checked on
every load: an entry that does not hold the file it is asked for (swapped or
copied on disk, or stale) is parsed again and replaced, never trusted.
Entries are written to a temporary file and renamed into place (atomic on
POSIX), so a reader never sees half an entry however many processes write
the same key; a per-key ``flock`` makes the other processes on the machine
wait for the first parse and read its result instead of parsing again.

A cache folder that cannot be used (not writable, full, gone) costs speed,
never the sweep: the store warns once and goes on without it.
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
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from engine.backtest.run_id import file_digest
from engine.data.columns import ARRAY_FIELDS, BarColumns
from engine.data.errors import Report, SkippedRow
from engine.data.paths import check_file

CACHE_VERSION = 3
DEFAULT_MEMO_BYTES = 1 << 30


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/engine/columns`` (``~/.cache/engine/columns``): per user, survives reruns."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "engine" / "columns"


def unusable(cache_dir: Path) -> str | None:
    """Why ``cache_dir`` cannot hold entries (it cannot be created or written), or None when it can."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=cache_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@dataclass(frozen=True)
class ParseOptions:
    """What ``load_columns`` is told besides the path (the ``[data]`` keys but ``paths``): part of the cache key."""

    format: str = "auto"  # noqa: A003 - the CLI's name
    columns: tuple[tuple[str, str], ...] = ()
    skip_bad: bool = False
    instrument: str | None = None
    delimiter: str = "auto"
    adjust: str = "none"
    sort: bool = False

    @classmethod
    def from_data_config(cls, data: Any) -> ParseOptions:
        given = {f.name: getattr(data, f.name) for f in fields(cls)}
        given["columns"] = tuple(sorted((data.columns or {}).items()))
        return cls(**given)

    def kwargs(self) -> dict[str, Any]:
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        given["columns"] = dict(self.columns) or None
        return given


@dataclass(frozen=True)
class Loaded:
    columns: BarColumns
    report: Report  # the rows the parse left out (skipped bad rows, filtered rows)
    digest: str  # sha256 of the file, as engine.backtest.run_id.file_digest computes it
    source: str  # "memo", "disk" or "parsed"
    seconds: float  # time to get the columns (hash + read or parse)


Parse = Callable[[Path, ParseOptions], tuple[BarColumns, Report]]


class ParseFailed(Exception):
    """Carries (as its cause) what the parser raised, past the handler of the cache's own I/O errors."""


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


def parse_with_market_data(path: Path, options: ParseOptions) -> tuple[BarColumns, Report]:
    """Parse with the project's parser, the same one ``python -m engine backtest`` streams from."""
    from engine.data import load_columns

    return load_columns(str(path), **options.kwargs())


def _report_json(report: Report) -> str:
    return json.dumps({"skipped": [list(r) for r in report.skipped], "filtered": [list(r) for r in report.filtered],
                       "notes": report.notes})


def _report_from(text: str) -> Report:
    data = json.loads(text)
    report = Report()
    report.skipped = [SkippedRow(*r) for r in data["skipped"]]
    report.filtered = [SkippedRow(*r) for r in data["filtered"]]
    report.notes = list(data["notes"])
    return report


def write_entry(path: Path, columns: BarColumns, report: Report, digest: str) -> None:
    """Write one cache entry atomically: a private temporary file, flushed, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {c: getattr(columns, c) for c in ARRAY_FIELDS}
    arrays["instrument"] = np.asarray(columns.instrument, dtype=str)
    arrays["digest"] = np.asarray(digest, dtype=str)
    arrays["report"] = np.asarray(_report_json(report), dtype=str)
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


def read_entry(path: Path) -> tuple[BarColumns, Report, str] | None:
    """An entry's columns, report and the digest of the file it holds; None when absent or unreadable."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            instrument = data["instrument"]
            columns = BarColumns(str(instrument) if instrument.ndim == 0 else instrument.astype(object),
                                 *(data[c] for c in ARRAY_FIELDS))
            return columns, _report_from(str(data["report"])), str(data["digest"])
    except (FileNotFoundError, OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile):
        return None


class ColumnStore:
    """Columns for data files: memo, then disk cache, then the parser (one per worker process).

    ``cache_dir`` None: no disk cache (memo and parser only). Safe to share
    between the threads of a Dask worker: the memo is locked, and two threads
    parsing one file queue on its flock like two processes.
    """

    def __init__(
        self,
        cache_dir: str | Path | None,
        parse: Parse = parse_with_market_data,
        memo_bytes: int = DEFAULT_MEMO_BYTES,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._parse = parse
        self._memo_bytes = memo_bytes
        self._memo: OrderedDict[str, tuple[BarColumns, Report]] = OrderedDict()
        self._digests: dict[tuple[Any, ...], str] = {}
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self._warn = warn or _log_warning
        self.parsed = 0  # files this process parsed
        self.disk_hits = 0
        self.memo_hits = 0
        self.mismatched = 0  # entries that held another file than their key says: parsed again

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

    def key(self, digest: str, options: ParseOptions, name: str = "") -> str:
        """The entry's key: content, options, parser and the file's name (the default instrument is its stem)."""
        if self._fingerprint is None:
            self._fingerprint = parser_fingerprint()
        payload = json.dumps([digest, options.kwargs(), self._fingerprint, name], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:40]

    def entry_path(self, key: str) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / key[:2] / f"{key}.npz"

    def load(self, path: str | Path, options: ParseOptions = ParseOptions()) -> Loaded:
        """Columns for ``path``; raises what the parser raises for a bad file (never cached)."""
        t0 = time.perf_counter()
        path = Path(check_file(str(path)))  # a pipe or a device would hang the hash
        digest = self.digest(path)
        key = self.key(digest, options, path.stem)
        with self._lock:
            held = self._memo.get(key)
            if held is not None:
                self._memo.move_to_end(key)
                self.memo_hits += 1
        if held is not None:
            return Loaded(held[0], _as_from(held[1], str(path)), digest, "memo", time.perf_counter() - t0)
        held, source = self._from_disk(path, options, key, digest)
        if held is None:
            held, source = self._parse(path, options), "parsed"
            self.parsed += 1
        self._remember(key, held)
        return Loaded(held[0], _as_from(held[1], str(path)), digest, source, time.perf_counter() - t0)

    def _from_disk(self, path: Path, options: ParseOptions, key: str,
                   digest: str) -> tuple[tuple[BarColumns, Report] | None, str]:
        """The entry for ``key`` (parsed and written first if missing or wrong); (None, "") without a usable cache."""
        if self.cache_dir is None:
            return None, ""
        entry = self.entry_path(key)
        try:
            held = self._verified(entry, digest)
            if held is not None:
                self.disk_hits += 1
                return held, "disk"
            return self._parse_once(path, options, entry, digest)
        except ParseFailed as failed:  # the file's problem, not the cache's
            raise failed.__cause__ from None
        except OSError as exc:  # the cache folder went bad under us: go on without it
            self._warn(f"parsed-data cache {self.cache_dir} is not usable ({exc.strerror or exc}); "
                       "going on without it (each worker parses its files)")
            self.cache_dir = None
            return None, ""

    def _verified(self, entry: Path, digest: str, count: bool = True) -> tuple[BarColumns, Report] | None:
        """The entry if it holds the file whose digest is ``digest``; None if absent, unreadable or another file's."""
        found = read_entry(entry)
        if found is None:
            return None
        columns, report, held = found
        if held != digest:
            self.mismatched += count
            return None
        return columns, report

    def _parse_once(self, path: Path, options: ParseOptions, entry: Path,
                    digest: str) -> tuple[tuple[BarColumns, Report], str]:
        """Parse under the key's lock, unless another process wrote the entry while we waited.

        A file rewritten during the parse is not cached under its old digest.
        """
        entry.parent.mkdir(parents=True, exist_ok=True)
        with open(entry.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                held = self._verified(entry, digest, count=False)  # written while we waited?
                if held is not None:
                    self.disk_hits += 1
                    return held, "disk"
                try:
                    held = self._parse(path, options)
                except Exception as exc:
                    raise ParseFailed from exc
                self.parsed += 1
                if file_digest(path) == digest:
                    write_entry(entry, *held, digest)
                return held, "parsed"
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _remember(self, key: str, held: tuple[BarColumns, Report]) -> None:
        with self._lock:
            self._memo[key] = held
            total = sum(c.nbytes for c, _ in self._memo.values())
            while total > self._memo_bytes and len(self._memo) > 1:
                _, (dropped, _) = self._memo.popitem(last=False)
                total -= dropped.nbytes


def _as_from(report: Report, path: str) -> Report:
    """The report naming ``path`` (an entry parsed from a same-named copy elsewhere names that copy)."""
    if all(r.path == path for r in report.skipped) and all(r.path == path for r in report.filtered):
        return report
    relabelled = Report()
    relabelled.skipped = [r._replace(path=path) for r in report.skipped]
    relabelled.filtered = [r._replace(path=path) for r in report.filtered]
    relabelled.notes = list(report.notes)
    return relabelled


def _log_warning(message: str) -> None:
    import logwood

    logwood.get_logger("sweep").warning(message)
