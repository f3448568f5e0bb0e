"""The parse step on its own: files -> checked, merged column chunks (no ``Bar`` built here).

Kept apart from stream.py so that parsing here and parsing ahead in a child
process (ahead.py) run exactly the same code: the same chunks in the same
order and the same report, wherever they were made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from engine.data.ashare_csv import ashare_columns, read_ashare
from engine.data.columns import BarColumns
from engine.data.csvchunks import CHUNK_BYTES, read_header
from engine.data.detect import FORMATS, detect_format
from engine.data.errors import DataError, Report
from engine.data.merge import merge_chunks
from engine.data.ohlcv_csv import map_columns, read_ohlcv


@dataclass(frozen=True)
class ParseSpec:
    """What to parse: all a child process needs to repeat the parent's parse (picklable)."""

    files: tuple[str, ...]
    format: str  # noqa: A003 - the CLI's name for it
    columns: dict[str, str] | None
    skip_bad: bool
    instrument: str | None
    chunk_bytes: int = CHUNK_BYTES


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


def open_sources(spec: ParseSpec, report: Report) -> list[Iterator[BarColumns]]:
    """One lazy reader per file; headers are checked now, rows are read only when iterated."""
    return [
        read_file(
            path,
            format=spec.format,
            columns=spec.columns,
            skip_bad=spec.skip_bad,
            instrument=spec.instrument,
            report=report,
            chunk_bytes=spec.chunk_bytes,
        )
        for path in spec.files
    ]


def merged(files: tuple[str, ...], sources: list[Iterator[BarColumns]]) -> Iterator:
    """Column chunks in stream order (a name per row once several files are merged)."""
    if len(sources) == 1:
        return sources[0]
    return _merged(files, sources)


def _merged(files: tuple[str, ...], sources: list[Iterator[BarColumns]]) -> Iterator[BarColumns]:
    try:
        yield from merge_chunks(sources, on_names=partial(check_names, files))
    finally:  # closing the stream early closes every file, not only the merge
        for source in sources:
            source.close()


def check_names(files: tuple[str, ...], names: list[str | None]) -> None:
    """Refuse two files with the same instrument: their bars could not be told apart."""
    seen: dict[str, str] = {}
    for path, name in zip(files, names, strict=True):
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
