"""Timestamps to integer nanoseconds since the epoch, UTC.

Accepted, decided per file from its first parsable value:

* ISO 8601 dates and datetimes: ``2020-01-02``, ``2020-01-02T09:30:00``,
  ``2020-01-02 09:30:00``, ``09:30`` without seconds, a fraction of up to 9
  digits, and an optional ``Z`` or ``+HH:MM``/``-HHMM`` offset. A value without
  an offset is UTC. The common fixed shapes (10, 19 or 20 characters with
  ``Z``) are parsed vectorised; the others one by one.
* Epoch numbers (optionally with a decimal fraction). The unit is inferred from
  the magnitude of the file's first timestamp: ``|t| < 1e11`` seconds,
  ``< 1e14`` milliseconds, ``< 1e17`` microseconds, otherwise nanoseconds. Any
  instant from 1973 to 5138 is unambiguous under this rule. Every later value
  must fall in the same band, so a file cannot silently mix units.
  An 8-digit first value that reads as a ``YYYYMMDD`` date (19000101..21001231)
  is refused: as epoch seconds it would be August 1970, which is almost
  certainly a misread date column.

The result must fit int64 nanoseconds: years 1678 to 2261.
"""

from __future__ import annotations

import re

import numpy as np

from engine.data.buffers import Buffer
from engine.data.errors import BAD_TIMESTAMP
from engine.data.numbers import parse_integers
from engine.data.problems import Problems

NS_PER_S = 1_000_000_000
_UNIT_NAMES = UNITS = ("s", "ms", "us", "ns")
_UNIT_BANDS = np.array([10**11, 10**14, 10**17], dtype=np.int64)  # |t| below band[k] -> unit k
_NS_PER_UNIT = (10**9, 10**6, 10**3, 1)
_MIN_YEAR, _MAX_YEAR = 1678, 2261
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
for _table in (_UNIT_BANDS, _DAYS_IN_MONTH):
    _table.flags.writeable = False  # shared lookup tables: no module state can change

_EPOCH_RE = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?")
_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant); ints or int arrays."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y, m):
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    return _DAYS_IN_MONTH[m] + (leap & (m == 2))


def epoch_unit(value: int) -> str:
    """The unit the magnitude rule gives for an epoch value: 's', 'ms', 'us' or 'ns'."""
    return _UNIT_NAMES[sum(abs(int(value)) >= band for band in _UNIT_BANDS.tolist())]


def epoch_units(values: np.ndarray) -> np.ndarray:
    """The magnitude rule for an int64 array: each value's unit as an index into ('s', 'ms', 'us', 'ns')."""
    magnitude = np.abs(values.astype(np.float64))  # float: abs(int64 min) would overflow
    return np.searchsorted(_UNIT_BANDS.astype(np.float64), magnitude, side="right")


def ns_per_unit(unit: str) -> int:
    return _NS_PER_UNIT[_UNIT_NAMES.index(unit)]


def parse_iso(text: str) -> int:
    """One ISO date/datetime as ns since the epoch; ValueError if it is not one."""
    m = _ISO_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError("not an ISO date or datetime")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    if not 1 <= month <= 12 or not 1 <= day <= int(_days_in_month(year, month)):
        raise ValueError("no such date")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("no such time of day")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"year outside {_MIN_YEAR}..{_MAX_YEAR}")
    ns = (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * NS_PER_S
    if m[7]:
        ns += int(m[7].ljust(9, "0"))
    zone = m[8]
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("bad UTC offset")
        offset = (hours * 3600 + minutes * 60) * NS_PER_S
        ns -= offset if zone[0] == "+" else -offset
    return ns


def parse_epoch(text: str, unit: str) -> int:
    """One epoch number in ``unit`` as ns; ValueError if malformed or finer than a nanosecond."""
    m = _EPOCH_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError("not an epoch number")
    scale = _NS_PER_UNIT[_UNIT_NAMES.index(unit)]
    ns = int(m[2]) * scale
    if m[3]:
        frac = m[3].rstrip("0")
        if 10 ** len(frac) > scale:
            raise ValueError("finer than a nanosecond")
        ns += int(frac.ljust(len(str(scale)) - 1, "0") or 0)
    ns = -ns if m[1] == "-" else ns
    if not -(2**63) <= ns < 2**63:
        raise ValueError(f"outside the int64 nanosecond range (years {_MIN_YEAR}..{_MAX_YEAR})")
    return ns


def _looks_like_date_number(value: int) -> bool:
    if not 19000101 <= value <= 21001231:
        return False
    y, m, d = value // 10000, value // 100 % 100, value % 100
    return 1 <= m <= 12 and 1 <= d <= int(_days_in_month(y, m))


class TimestampParser:
    """Parses one file's timestamp column chunk by chunk; remembers the file's format and unit."""

    def __init__(self) -> None:
        self.kind: str | None = None  # "iso" or "epoch"
        self.unit: str | None = None  # epoch unit

    def describe(self) -> str:
        return "ISO dates" if self.kind == "iso" else f"epoch {self.unit}" if self.kind else "undecided"

    def parse(
        self, buf: Buffer, start: np.ndarray, end: np.ndarray, problems: Problems, field: str
    ) -> np.ndarray:
        """ns for every row; rows that do not parse are added to ``problems`` (their value is 0)."""
        if self.kind is None and not self._decide(buf, start, end, problems, field):
            out = np.zeros(start.size, dtype=np.int64)
            problems.add(
                np.arange(start.size),
                field,
                lambda i: f"cannot parse {buf.text(start[i], end[i])!r} as a timestamp",
                BAD_TIMESTAMP,
            )
            return out
        if self.kind == "iso":
            ns, ok = _iso_fast(buf, start, end)
            slow = lambda text: parse_iso(text)  # noqa: E731
        else:
            ns, ok = self._epoch_fast(buf, start, end)
            slow = lambda text: parse_epoch(text, self.unit)  # noqa: E731
        bad_rows: list[int] = []
        reasons: dict[int, str] = {}
        for i in np.flatnonzero(~ok).tolist():
            text = buf.text(int(start[i]), int(end[i]))
            try:
                if self.kind == "epoch":
                    self._check_band(text)
                ns[i] = slow(text)
            except ValueError as exc:
                bad_rows.append(i)
                reasons[i] = f"cannot parse {text!r} as {self.describe()}: {exc}"
        problems.add(np.array(bad_rows, dtype=np.int64), field, reasons.__getitem__, BAD_TIMESTAMP)
        return ns

    def _decide(
        self, buf: Buffer, start: np.ndarray, end: np.ndarray, problems: Problems, field: str
    ) -> bool:
        for i in range(min(start.size, 1000)):
            text = buf.text(int(start[i]), int(end[i])).strip()
            m = _EPOCH_RE.fullmatch(text)
            if m:
                self.kind, self.unit = "epoch", epoch_unit(int(m[2]))
                if self.unit == "s" and not m[3] and len(m[2]) == 8 and _looks_like_date_number(int(m[2])):
                    problems.add(
                        np.array([i]),
                        field,
                        f"{text!r} looks like a YYYYMMDD date, not epoch seconds (August 1970); "
                        "write dates as YYYY-MM-DD",
                        BAD_TIMESTAMP,
                    )
                return True
            if _ISO_RE.fullmatch(text):
                try:  # ISO-shaped is not enough: a corrupt first row ('2020-13-45') must not decide the format
                    parse_iso(text)
                except ValueError:
                    continue
                self.kind = "iso"
                return True
        return False

    def _check_band(self, text: str) -> None:
        m = _EPOCH_RE.fullmatch(text.strip())
        if m is None:
            raise ValueError("not an epoch number")
        unit = epoch_unit(int(m[2]))
        if unit != self.unit:
            raise ValueError(
                f"its magnitude means {unit}, but the file's first timestamp set the unit to {self.unit}"
            )

    def _epoch_fast(self, buf: Buffer, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, ok = parse_integers(buf, start, end)
        k = _UNIT_NAMES.index(self.unit)
        magnitude = np.abs(values)
        if k < 3:
            ok &= magnitude < _UNIT_BANDS[k]
        if k > 0:
            ok &= magnitude >= _UNIT_BANDS[k - 1]
        scale = _NS_PER_UNIT[k]
        ok &= magnitude <= np.iinfo(np.int64).max // scale
        values = values * scale
        return values, ok


def _iso_fast(buf: Buffer, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD`` and ``YYYY-MM-DD[T ]HH:MM:SS[Z]`` vectorised; ``ok`` False for anything else."""
    n = start.size
    width = end - start
    data = buf.data
    last = data[end - 1]
    has_time = (width == 19) | ((width == 20) & (last == 90))  # 'Z'
    ok = (width == 10) | has_time
    words = buf.words
    m = np.stack([words[start], words[start + 8], words[start + 16]], axis=1).view(np.uint8).reshape(n, 24)
    d = m - np.uint8(48)
    for k in (0, 1, 2, 3, 5, 6, 8, 9):
        ok &= d[:, k] <= 9
    ok &= (m[:, 4] == 45) & (m[:, 7] == 45)
    time_ok = (m[:, 10] == 84) | (m[:, 10] == 32)
    for k in (11, 12, 14, 15, 17, 18):
        time_ok &= d[:, k] <= 9
    time_ok &= (m[:, 13] == 58) & (m[:, 16] == 58)
    ok &= ~has_time | time_ok

    def num(*cols: int) -> np.ndarray:
        v = d[:, cols[0]].astype(np.int64)
        for c in cols[1:]:
            v = v * 10 + d[:, c]
        return v

    year, month, day = num(0, 1, 2, 3), num(5, 6), num(8, 9)
    ok &= (month >= 1) & (month <= 12) & (year >= _MIN_YEAR) & (year <= _MAX_YEAR)
    month = np.where(ok, month, 1)
    ok &= (day >= 1) & (day <= _days_in_month(year, month))
    seconds = days_from_civil(year, month, day) * 86400
    if has_time.any():
        hour, minute, second = num(11, 12), num(14, 15), num(17, 18)
        ok &= ~has_time | ((hour <= 23) & (minute <= 59) & (second <= 59))
        seconds += np.where(has_time, hour * 3600 + minute * 60 + second, 0)
    return seconds * NS_PER_S, ok
