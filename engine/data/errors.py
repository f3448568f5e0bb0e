"""Why a run stopped, and what was left out: bad input is never silently dropped.

``DataError`` stops a run and names the file, the 1-based physical line (the
header is line 1) and the column as the file spells it. With ``skip_bad`` the
same findings become :class:`SkippedRow` entries in a :class:`Report` the
caller can print or write; documented filters (A-share ``isopen=false``) are
listed there too, separately.
"""

from __future__ import annotations

from typing import NamedTuple


class DataError(ValueError):
    """Bad input: ``path:line: field 'name': reason``. ``line``/``field`` may be None for file-level errors."""

    def __init__(self, path: str, line: int | None, field: str | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        where = path if line is None else f"{path}:{line}"
        what = reason if field is None else f"field {field!r}: {reason}"
        super().__init__(f"{where}: {what}")

    def __reduce__(self):  # keep it picklable for process pools
        return (DataError, (self.path, self.line, self.field, self.reason))


class SkippedRow(NamedTuple):
    path: str
    line: int
    field: str | None
    reason: str


class Report:
    """Rows left out of the stream (``skipped`` bad rows, ``filtered`` by a format rule) and rows read.

    ``rows_read`` counts data rows parsed so far per file: it grows as the stream
    is consumed, which is how a caller (or a test) can see the reading is lazy.
    """

    def __init__(self) -> None:
        self.skipped: list[SkippedRow] = []
        self.filtered: list[SkippedRow] = []
        self.rows_read: dict[str, int] = {}

    def summary(self) -> str:
        """One line per file with counts, then every skipped row as ``path:line: field: reason``."""
        out = []
        for title, rows in (("skipped", self.skipped), ("filtered", self.filtered)):
            per_file: dict[str, int] = {}
            for row in rows:
                per_file[row.path] = per_file.get(row.path, 0) + 1
            for path, count in per_file.items():
                out.append(f"{path}: {count} row(s) {title}")
        for row in self.skipped:
            field = "" if row.field is None else f" field {row.field!r}:"
            out.append(f"  {row.path}:{row.line}:{field} {row.reason}")
        return "\n".join(out) if out else "no rows skipped or filtered"
