"""Collect the bad rows of one chunk, then either raise the first or skip them all.

Checks run vectorised over a whole chunk and register the rows they reject here,
most important check first. Each row keeps only its first finding, so the
strict path (raise) and ``skip_bad`` (report every row) name the same field
for the same row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.data.errors import DataError, Report, SkippedRow

Reason = Callable[[int], str] | str
ValueOf = Callable[[int, str], str]  # (row, the file's column name) -> the field's text


def cannot_parse(buf, start: np.ndarray, end: np.ndarray, what: str = "a number") -> Callable[[int], str]:
    """The reason for an unparsable field, built only for the rows that need it."""
    return lambda i: f"cannot parse {buf.text(int(start[i]), int(end[i]))!r} as {what}"


def quoted(template: str, texts) -> Callable[[int], str]:
    """``template.format(texts[i])`` for row ``i`` (binds ``texts`` now, not at call time)."""
    return lambda i: template.format(texts[i])


class Problems:
    """Findings for the ``n`` rows of a chunk, in the order the checks added them."""

    __slots__ = ("n", "_found")

    def __init__(self, n: int) -> None:
        self.n = n
        self._found: list[tuple[np.ndarray, str | None, Reason, str]] = []

    def add(self, rows: np.ndarray, field: str | None, reason: Reason, rule: str) -> None:
        """Register ``rows`` (row indices) as breaking ``rule`` for ``reason`` (a text, or a function of the row)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size:
            self._found.append((rows, field, reason, rule))

    def absorb(self, other: Problems, considered: np.ndarray) -> None:
        """Take over ``other``'s findings for the ``considered`` rows only."""
        for rows, field, reason, rule in other._found:
            self.add(rows[considered[rows]], field, reason, rule)

    def __bool__(self) -> bool:
        return bool(self._found)

    def bad_mask(self) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for rows, _, _, _ in self._found:
            mask[rows] = True
        return mask

    def per_row(self) -> list[tuple[int, str | None, str, str]]:
        """``(row, field, reason, rule)`` for every bad row, by row, first finding only."""
        first: dict[int, tuple[str | None, Reason, str]] = {}
        for rows, field, reason, rule in self._found:
            for row in rows.tolist():
                first.setdefault(row, (field, reason, rule))
        return [
            (row, field, reason if isinstance(reason, str) else reason(row), rule)
            for row, (field, reason, rule) in sorted(first.items())
        ]

    def first(self) -> tuple[int, str | None, str]:
        row = min(int(rows.min()) for rows, _, _, _ in self._found)
        for rows, field, reason, _ in self._found:
            if (rows == row).any():
                return row, field, reason if isinstance(reason, str) else reason(row)
        raise AssertionError("unreachable")

    def settle(
        self, path: str, lines: np.ndarray, skip_bad: bool, report: Report, value_of: ValueOf | None = None
    ) -> np.ndarray | None:
        """Raise the first problem, or (``skip_bad``) report them all and return the rows to keep.

        ``value_of(row, field)`` gives a bad field's text for the report.
        Returns None when there is nothing to drop.
        """
        if not self._found:
            return None
        if not skip_bad:
            row, field, reason = self.first()
            raise DataError(path, int(lines[row]), field, reason)
        report.skipped.extend(
            SkippedRow(path, int(lines[row]), field, reason,
                       value_of(row, field) if value_of is not None and field is not None else "", rule)
            for row, field, reason, rule in self.per_row()
        )
        return ~self.bad_mask()
