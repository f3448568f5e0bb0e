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
from engine.data.csvchunks import CHUNK_BYTES, file_delimiter, read_header
from engine.data.detect import FORMATS, detect_format
from engine.data.errors import DataError, Report
from engine.data.mapping import map_columns
from engine.data.merge import merge_chunks
from engine.data.ohlcv_csv import read_ohlcv
from engine.data.parquet import parquet_names, read_parquet


@dataclass(frozen=True)
class Reading:
    """How files are read: the ``[data]`` keys but ``paths`` (see engine/data/__init__.py)."""

    format: str = "auto"  # noqa: A003 - the CLI's name for it
    columns: dict[str, str] | None = None
    skip_bad: bool = False
    instrument: str | None = None
    delimiter: str = "auto"
    adjust: str = "none"
    sort: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {self.format!r}")
        if self.adjust not in ADJUSTMENTS:
            raise ValueError(f"adjust must be one of {ADJUSTMENTS}, not {self.adjust!r}")
        if self.delimiter != "auto" and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character or 'auto', not {self.delimiter!r}")


ADJUSTMENTS = ("none", "close")


@dataclass(frozen=True)
class ParseSpec:
    """What to parse: all a child process needs to repeat the parent's parse (picklable)."""

    files: tuple[str, ...]
    reading: Reading
    chunk_bytes: int = CHUNK_BYTES


def read_file(
    path: str, reading: Reading = Reading(), report: Report | None = None, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[BarColumns]:
    """One file as checked column chunks, in time order (the parse step)."""
    kind = detect_format(path) if reading.format == "auto" else reading.format
    check_header(path, kind, reading)  # fail at open time, not on the first bar
    if kind == "ashare":
        return read_ashare(
            path, instrument=reading.instrument, skip_bad=reading.skip_bad, report=report, chunk_bytes=chunk_bytes,
            delimiter=reading.delimiter,
        )
    options = {"columns": reading.columns, "instrument": reading.instrument, "skip_bad": reading.skip_bad,
               "report": report, "adjust": reading.adjust, "sort": reading.sort}
    if kind == "parquet":
        return read_parquet(path, **options)
    return read_ohlcv(path, chunk_bytes=chunk_bytes, delimiter=reading.delimiter, **options)


def check_header(path: str, kind: str, reading: Reading) -> None:
    """Raise now if the file's header cannot be read as ``kind`` (missing or ambiguous columns)."""
    if kind == "ashare":
        for given, what in ((reading.columns, "a column mapping"), (reading.adjust != "none", "adjust"),
                            (reading.sort, "sort")):
            if given:
                raise ValueError(f"{path}: {what} applies to generic OHLCV and Parquet files; the A-share "
                                 "export has its own columns, adjustment (accumadjfactor) and order")
        with open(path, "rb") as f:
            ashare_columns(path, read_header(f, path, file_delimiter(path, reading.delimiter)))
    elif kind == "parquet":
        map_columns(path, parquet_names(path), reading.columns, reading.adjust == "close")
    else:
        with open(path, "rb") as f:
            header = read_header(f, path, file_delimiter(path, reading.delimiter))
        map_columns(path, header, reading.columns, reading.adjust == "close")


def open_sources(spec: ParseSpec, report: Report) -> list[Iterator[BarColumns]]:
    """One lazy reader per file; headers are checked now, rows are read only when iterated."""
    return [read_file(path, spec.reading, report, spec.chunk_bytes) for path in spec.files]


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
