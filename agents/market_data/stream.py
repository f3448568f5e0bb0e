"""The public entry points: files -> checked columns -> one time-ordered stream of ``Bar``.

``open_stream`` is lazy: nothing but the headers is read until the stream is
iterated (so a missing column fails at once), and the generic format is then
read a block at a time. Merging keeps one open file per input file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain, repeat

from agents.market_data.ashare_csv import ashare_columns, read_ashare
from agents.market_data.columns import BarColumns
from agents.market_data.csvchunks import CHUNK_BYTES, read_header
from agents.market_data.detect import FORMATS, detect_format
from agents.market_data.errors import DataError, Report
from agents.market_data.merge import merge_chunks
from agents.market_data.ohlcv_csv import map_columns, read_ohlcv
from agents.market_data.paths import resolve_paths
from hub.messages import Bar


def read_file(
    path: str,
    *,
    format: str = "auto",  # noqa: A002 - the CLI's name for it
    columns: dict[str, str] | None = None,
    skip_bad: bool = False,
    instrument: str | None = None,
    report: Report | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[BarColumns]:
    """One file as checked column chunks, in time order (the parse step)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    kind = detect_format(path) if format == "auto" else format
    check_header(path, kind, columns)  # fail at open time, not on the first bar
    if kind == "ashare":
        return read_ashare(
            path, instrument=instrument, skip_bad=skip_bad, report=report, chunk_bytes=chunk_bytes
        )
    return read_ohlcv(
        path,
        columns=columns,
        instrument=instrument,
        skip_bad=skip_bad,
        report=report,
        chunk_bytes=chunk_bytes,
    )


def check_header(path: str, kind: str, columns: dict[str, str] | None) -> None:
    """Raise now if the file's header cannot be read as ``kind`` (missing or ambiguous columns)."""
    if kind == "ashare" and columns:
        raise ValueError(
            f"{path}: a column mapping applies to the generic OHLCV format, not the A-share export"
        )
    with open(path, "rb") as f:
        header = read_header(f, path)
    if kind == "ashare":
        ashare_columns(path, header)
    else:
        map_columns(path, header, columns)


def load_columns(
    path: str,
    *,
    format: str = "auto",  # noqa: A002
    columns: dict[str, str] | None = None,
    skip_bad: bool = False,
    instrument: str | None = None,
) -> tuple[BarColumns, Report]:
    """A whole file as one ``BarColumns`` (for caching and sweeps) and the report of what was left out."""
    report = Report()
    parts = list(
        read_file(
            path, format=format, columns=columns, skip_bad=skip_bad, instrument=instrument, report=report
        )
    )
    name = parts[0].instrument if parts else (instrument or os.path.splitext(os.path.basename(path))[0])
    return BarColumns.concat(name, parts), report


def bars_of(chunk) -> list[Bar]:
    """``Bar`` messages of a chunk (``BarColumns`` or a merged chunk), built in one C-level loop."""
    names = chunk.instrument
    names = repeat(names, len(chunk)) if isinstance(names, str) else names.tolist()
    return list(
        map(
            Bar,
            chunk.ts.tolist(),
            names,
            chunk.open.tolist(),
            chunk.high.tolist(),
            chunk.low.tolist(),
            chunk.close.tolist(),
            chunk.volume.tolist(),
        )
    )


class BarStream:
    """Iterable of ``Bar`` in time order over several files.

    ``files``: the resolved paths, in order (the last tie-breaker);
    ``report``: rows skipped (``skip_bad``) or filtered so far; complete once
    the stream is exhausted. ``chunks()`` yields column chunks and
    ``batches()`` lists of ``Bar``, for callers that want to amortise per-bar
    overhead. Iterate once.
    """

    def __init__(
        self, files: list[str], *, format: str, columns, skip_bad: bool, instrument, chunk_bytes: int
    ) -> None:  # noqa: A002
        self.files = files
        self.report = Report()
        self._sources = [
            read_file(
                path,
                format=format,
                columns=columns,
                skip_bad=skip_bad,
                instrument=instrument,
                report=self.report,
                chunk_bytes=chunk_bytes,
            )
            for path in files
        ]

    def chunks(self) -> Iterator:
        """Column chunks in stream order: ``BarColumns`` for one file, merged chunks for several."""
        if len(self._sources) == 1:
            return self._sources[0]
        return merge_chunks(self._sources, on_names=self._check_names)

    def batches(self) -> Iterator[list[Bar]]:
        return map(bars_of, self.chunks())

    def __iter__(self) -> Iterator[Bar]:
        return chain.from_iterable(self.batches())

    def _check_names(self, names: list[str | None]) -> None:
        seen: dict[str, str] = {}
        for path, name in zip(self.files, names, strict=True):
            if name is None:
                continue
            if name in seen:
                raise DataError(
                    path,
                    None,
                    None,
                    f"instrument {name!r} also comes from {seen[name]}; one file per instrument",
                )
            seen[name] = path


def open_stream(
    paths: str | list[str],
    format: str = "auto",  # noqa: A002
    columns: dict[str, str] | None = None,
    skip_bad: bool = False,
    instrument: str | None = None,
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> BarStream:
    """A lazy, merged, time-ordered ``Bar`` stream over ``paths`` (files, directories, globs)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    files = resolve_paths(paths)
    if instrument is not None and len(files) > 1:
        raise ValueError(
            f"instrument={instrument!r} names one file's instrument, but {len(files)} files were given"
        )
    return BarStream(
        files,
        format=format,
        columns=columns,
        skip_bad=skip_bad,
        instrument=instrument,
        chunk_bytes=chunk_bytes,
    )
