"""The sanity rules a bar must pass (all vectorised; only rejected rows cost Python time).

Strict but reasonable:
* prices and volume must be finite (``nan``/``inf`` are refused);
* volume must be >= 0; prices may be zero or negative (spreads, 2020 oil);
* ``low <= open <= high``, ``low <= close <= high`` (and so ``low <= high``);
* timestamps strictly increase within a file (equal counts as not increasing).

When OHLC relations fail, the blamed field is the one taking part in the most
violated relations (ties: open, close, high, low): a ``high`` typed too low
breaks three relations and is named, not the ``open`` that merely exceeds it.
"""

from __future__ import annotations

import numpy as np

from engine.data.problems import Problems

_RELATIONS = (  # (lower, upper) pairs that must hold as lower <= upper
    ("low", "high"),
    ("low", "open"),
    ("open", "high"),
    ("low", "close"),
    ("close", "high"),
)
_TIE_ORDER = ("open", "close", "high", "low")


def check_values(
    values: dict[str, np.ndarray],
    names: dict[str, str],
    problems: Problems,
    considered: np.ndarray | None = None,
) -> None:
    """Finite prices/volume, non-negative volume and OHLC order; ``names`` maps logical -> file column names."""
    for key in ("open", "high", "low", "close", "volume"):
        col = values[key]
        bad = ~np.isfinite(col)
        if considered is not None:
            bad &= considered
        if bad.any():
            problems.add(
                np.flatnonzero(bad), names[key], lambda i, col=col: f"{col[i]!r} is not a finite number"
            )
    vol = values["volume"]
    bad = vol < 0
    if considered is not None:
        bad &= considered
    if bad.any():
        problems.add(np.flatnonzero(bad), names["volume"], lambda i: f"volume {vol[i]!r} is negative")
    o, h, lo, c = values["open"], values["high"], values["low"], values["close"]
    bad = (h < lo) | (o < lo) | (o > h) | (c < lo) | (c > h)
    if considered is not None:
        bad &= considered
    if not bad.any():
        return
    by_field: dict[str, list[int]] = {}
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(bad).tolist():
        row = {k: float(values[k][i]) for k in ("open", "high", "low", "close")}
        broken = [(a, b) for a, b in _RELATIONS if not row[a] <= row[b]]
        votes = {k: sum(k in pair for pair in broken) for k in _TIE_ORDER}
        blamed = max(_TIE_ORDER, key=lambda k: (votes[k], -_TIE_ORDER.index(k)))
        a, b = next(pair for pair in broken if blamed in pair)
        other = b if blamed == a else a
        relation = "above" if blamed == a else "below"
        reasons[i] = f"{blamed} {row[blamed]!r} is {relation} {other} {row[other]!r}"
        by_field.setdefault(blamed, []).append(i)
    for key in _TIE_ORDER:
        if key in by_field:
            problems.add(np.array(by_field[key]), names[key], reasons.__getitem__)


def check_increasing(
    ts: np.ndarray, previous: int | None, problems: Problems, field: str, considered: np.ndarray | None = None
) -> int | None:
    """Flag rows whose ts is not after every earlier good row's; returns the new running maximum.

    Rows already rejected (and rows not ``considered``) are left out of the
    comparison, so with ``skip_bad`` one bad timestamp costs one row, not all
    the rows after it.
    """
    keep = ~problems.bad_mask() if problems else None
    if considered is not None:
        keep = considered if keep is None else keep & considered
    rows = np.flatnonzero(keep) if keep is not None else None
    sub = ts if rows is None else ts[rows]
    if sub.size == 0:
        return previous
    before = np.empty_like(sub)
    before[0] = np.iinfo(np.int64).min if previous is None else previous
    if sub.size > 1:
        np.maximum.accumulate(sub[:-1], out=before[1:])
        if previous is not None:
            np.maximum(before[1:], previous, out=before[1:])
    bad = sub <= before
    if bad.any():
        where = np.flatnonzero(bad)
        index = where if rows is None else rows[where]
        earlier = dict(zip(index.tolist(), before[where].tolist(), strict=True))
        problems.add(
            index,
            field,
            lambda i: f"timestamp {_iso(int(ts[i]))} is not after the previous row's {_iso(earlier[i])}",
        )
    top = int(sub.max())
    return top if previous is None else max(top, previous)


def _iso(ns: int) -> str:
    return str(np.datetime64(ns, "ns"))
