"""The public entry points: files -> checked columns -> one time-ordered stream of ``Bar``.

``open_stream`` is lazy: nothing but the headers is read until the stream is
iterated (so a missing column fails at once), and the generic format is then
read a block at a time. Merging keeps one open file per input file. Big
inputs are parsed in a child process running ahead of the consumer (ahead.py),
which here only builds the ``Bar`` messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain

from engine.data.ahead import check_mode, chunks_ahead, runs_ahead
from engine.data.bar_batch import bars
from engine.data.columns import BarColumns
from engine.data.csvchunks import CHUNK_BYTES
from engine.data.errors import Report
from engine.data.parse import ParseSpec, Reading, merged, open_sources, read_file
from engine.data.paths import check_file, resolve_paths
from hub.messages import Bar

BATCH = 4096  # bars per batch from in-memory columns: the replay yields to the loop between batches


def load_columns(
    path: str,
    *,
    format: str = "auto",  # noqa: A002
    columns: dict[str, str] | None = None,
    skip_bad: bool = False,
    instrument: str | None = None,
    delimiter: str = "auto",
    adjust: str = "none",
    sort: bool = False,
) -> tuple[BarColumns, Report]:
    """A whole file as one ``BarColumns`` (for caching and sweeps) and the report of what was left out."""
    report = Report()
    reading = Reading(format, columns, skip_bad, instrument, delimiter, adjust, sort)
    parts = list(read_file(check_file(path), reading, report))
    name = parts[0].instrument if parts else (instrument or os.path.splitext(os.path.basename(path))[0])
    return BarColumns.concat(name, parts), report


def bars_of(chunk: BarColumns) -> list[Bar]:
    """``Bar`` messages of a chunk, built in one compiled loop."""
    names = chunk.instrument
    return bars(
        names if isinstance(names, str) else names.tolist(),
        chunk.ts, chunk.open, chunk.high, chunk.low, chunk.close, chunk.volume,
    )


def column_batches(columns: BarColumns, size: int = BATCH) -> Iterator[list[Bar]]:
    """Lists of ``Bar`` from columns held in memory (a sweep's cached file), as a stream's ``batches()``."""
    for start in range(0, len(columns), size):
        yield bars_of(columns.take(slice(start, start + size)))


class BarStream:
    """Iterable of ``Bar`` in time order over several files.

    ``files``: the resolved paths, in order (the last tie-breaker);
    ``report``: rows skipped (``skip_bad``) or filtered so far; complete once
    the stream is exhausted. ``chunks()`` yields column chunks and
    ``batches()`` lists of ``Bar``, for callers that want to amortise per-bar
    overhead. ``ahead`` says where the parsing runs (ahead.py): here, or in a
    child process ahead of the consumer. Iterate once.
    """

    def __init__(self, files: list[str], reading: Reading, *, chunk_bytes: int, ahead: str = "auto") -> None:
        self._ahead = check_mode(ahead)
        self.files = files
        self.report = Report()
        self._spec = ParseSpec(tuple(files), reading, chunk_bytes)
        self._sources = open_sources(self._spec, self.report)  # checks the headers now

    def chunks(self) -> Iterator:
        """Column chunks in stream order (a name per row once several files are merged)."""
        inline = merged(self._spec.files, self._sources)
        if not runs_ahead(self._ahead, self._spec.files):
            return inline
        return chunks_ahead(self._spec, self.report, inline)

    def batches(self) -> Iterator[list[Bar]]:
        return map(bars_of, self.chunks())

    def __iter__(self) -> Iterator[Bar]:
        return chain.from_iterable(self.batches())


def open_stream(
    paths: str | list[str],
    format: str = "auto",  # noqa: A002
    columns: dict[str, str] | None = None,
    skip_bad: bool = False,
    instrument: str | None = None,
    *,
    delimiter: str = "auto",
    adjust: str = "none",
    sort: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
    ahead: str = "auto",
) -> BarStream:
    """A lazy, merged, time-ordered ``Bar`` stream over ``paths`` (files, directories, globs).

    ``ahead``: "inline", "process" or "auto" (a child process parses big inputs; see ahead.py).
    """
    reading = Reading(format, columns, skip_bad, instrument, delimiter, adjust, sort)
    files = resolve_paths(paths)
    if instrument is not None and len(files) > 1:
        raise ValueError(
            f"instrument={instrument!r} names one file's instrument, but {len(files)} files were given"
        )
    return BarStream(files, reading, chunk_bytes=chunk_bytes, ahead=ahead)
