"""Which column of a file (CSV header or Parquet schema) holds which field of a bar.

An explicit mapping (``{"ts": "Date", "open": "Open", ...}``, partial is
fine) or, for the rest, a case-insensitive match of the usual names. Extra
columns are ignored. ``adj_close`` (an adjusted close, as Yahoo exports have)
is looked for only when ``--adjust close`` asks for it.
"""

from __future__ import annotations

from engine.data.csvchunks import DELIMITERS
from engine.data.errors import DataError

FIELDS = ("ts", "open", "high", "low", "close", "volume")
ADJ_CLOSE = "adj_close"
AUTODETECT = {
    "ts": ("timestamp", "time", "datetime", "date"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume",),
    ADJ_CLOSE: ("adj close", "adj_close", "adjclose", "adjusted close", "adjusted_close"),
}


def map_columns(path: str, header: list[str], columns: dict[str, str] | None, adjusted: bool = False) -> dict[str, int]:
    """Logical field -> column index; DataError (line 1) for a missing or ambiguous column."""
    columns = dict(columns or {})
    known = (*FIELDS, ADJ_CLOSE)
    unknown = set(columns) - set(known)
    if unknown:
        raise ValueError(f"unknown column keys {sorted(unknown)}; use {list(known)}")
    found: dict[str, int] = {}
    for key in (*FIELDS, ADJ_CLOSE) if adjusted else FIELDS:
        if key in columns:
            hits = [i for i, name in enumerate(header) if name == columns[key]]
            if not hits:
                raise DataError(path, 1, columns[key], f"missing column (header: {', '.join(header)})")
        else:
            wanted = AUTODETECT[key]
            hits = [i for i, name in enumerate(header) if name.lower() in wanted]
            if not hits:
                raise DataError(path, 1, key, f"missing column: none of {'|'.join(wanted)} in the header "
                                              f"({', '.join(header)}){_advice(header, key)}")
        if len(hits) > 1:
            names = ", ".join(repr(header[i]) for i in hits)
            raise DataError(path, 1, header[hits[0]],
                            f"ambiguous: columns {names} could all be {key!r}; map one with columns={{{key!r}: ...}}")
        found[key] = hits[0]
    return found


def adj_close_column(header: list[str], columns: dict[str, str] | None) -> str | None:
    """The file's adjusted-close column, if it has one (to say it is not applied)."""
    mapped = (columns or {}).get(ADJ_CLOSE)
    if mapped in header:
        return mapped
    return next((name for name in header if name.lower() in AUTODETECT[ADJ_CLOSE]), None)


def _advice(header: list[str], key: str) -> str:
    """What to do about a missing column: the separator when the header did not split, else a mapping."""
    if len(header) == 1:
        inside = [d for d in DELIMITERS if d in header[0]]
        if inside:
            shown = "tab" if inside[0] == "\t" else repr(inside[0])
            return (f"; the header is one column: is the separator {shown}? "
                    "(--delimiter, or [data] delimiter; auto finds comma, tab, semicolon and pipe)")
    if key == ADJ_CLOSE:
        return "; --adjust close needs an adjusted close column: map it with columns={'adj_close': ...}"
    return f"; map it with columns={{{key!r}: ...}}"
