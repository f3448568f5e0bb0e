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


# The rules a row can break (``SkippedRow.rule``): the summary counts skipped rows per rule. The rules
# on values and their order are hub/market_rules.py's, named as it names them ("not finite",
# "negative", "low above high", ...), so a file and the live feed count the same way.
MALFORMED = "malformed row"
BAD_NUMBER = "unparsable number"
BAD_TIMESTAMP = "unparsable timestamp"
MISSING = "missing value"  # a null in a Parquet column
NOT_INCREASING = "time not increasing"
BAD_FACTOR = "bad adjustment factor"
BAD_FLAG = "bad isopen flag"
OTHER_TICKER = "another ticker"
NOT_TRADING = "isopen false"  # a filter, not an error: A-share non-trading days


class SkippedRow(NamedTuple):
    path: str
    line: int
    field: str | None
    reason: str
    value: str = ""  # the field's text as the file has it ("" when the row could not be split)
    rule: str = ""  # which rule (one of the names above): what the summary counts

    def __str__(self) -> str:
        field = "" if self.field is None else f" field {self.field!r}:"
        return f"{self.path}:{self.line}:{field} {self.reason}"


class Report:
    """Rows left out of the stream (``skipped`` bad rows, ``filtered`` by a format rule) and rows read.

    ``rows_read`` counts data rows parsed so far per file: it grows as the stream
    is consumed, which is how a caller (or a test) can see the reading is lazy.
    """

    def __init__(self) -> None:
        self.skipped: list[SkippedRow] = []
        self.filtered: list[SkippedRow] = []
        self.rows_read: dict[str, int] = {}
        self.notes: list[str] = []  # what the user should know, e.g. a file sorted by time (--sort)

    @staticmethod
    def counts(rows: list[SkippedRow], path: str | None = None) -> dict[str, int]:
        """Rows per rule (sorted by rule), of one file or all."""
        counts: dict[str, int] = {}
        for row in rows:
            if path is None or row.path == path:
                counts[row.rule] = counts.get(row.rule, 0) + 1
        return dict(sorted(counts.items()))

    def nothing_left(self, path: str, rows: int) -> DataError:
        """The error for a file whose ``rows`` data rows were all skipped or filtered: which rule removed what."""
        parts = [f"{n} {rule}" for rule, n in self.counts(self.filtered, path).items()]
        parts += [f"{n} skipped ({rule})" for rule, n in self.counts(self.skipped, path).items()]
        return DataError(path, None, None, f"no bars left: all {rows} data row(s) were left out ({', '.join(parts)})")

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
            out.append(f"  {row}")
        return "\n".join(out) if out else "no rows skipped or filtered"
