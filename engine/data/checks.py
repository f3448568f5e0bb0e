"""The market-data rules (:mod:`hub.market_rules`) applied a column at a time; only rejected rows cost Python time.

The rules and their wording live in ``hub/market_rules.py``, shared with the
live feed, so a file and a feed refuse the same bars:
* prices finite, > 0 and at most ``MAX_PRICE``; volume finite, >= 0 and at
  most ``MAX_QUANTITY``;
* ``low <= open <= high``, ``low <= close <= high`` (and so ``low <= high``);
* timestamps strictly increase within a file (equal counts as not increasing).

When OHLC relations fail, the blamed field is the one taking part in the most
violated relations (ties: open, close, high, low): a ``high`` typed too low
breaks three relations and is named, not the ``open`` that merely exceeds it.
"""

from __future__ import annotations

import numpy as np

from engine.data.errors import NOT_INCREASING
from engine.data.problems import Problems
from hub.market_rules import (
    MAX_PRICE,
    MAX_QUANTITY,
    ORDER_RELATIONS,
    PRICE_FIELDS,
    QUANTITY_FIELDS,
    price_problem,
    quantity_problem,
    relation_problem,
)


def check_values(
    values: dict[str, np.ndarray],
    names: dict[str, str],
    problems: Problems,
    considered: np.ndarray | None = None,
) -> None:
    """The bar rules of :mod:`hub.market_rules`; ``names`` maps logical -> file column names."""
    for key, limit, describe in (
        [(k, MAX_PRICE, price_problem) for k in PRICE_FIELDS["bar"]]
        + [(k, MAX_QUANTITY, quantity_problem) for k in QUANTITY_FIELDS["bar"]]
    ):
        col = values[key]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(col) | (col > limit) | ((col <= 0) if describe is price_problem else (col < 0))
        if considered is not None:
            bad &= considered
        if bad.any():
            found = {i: describe(key, float(col[i])) for i in np.flatnonzero(bad).tolist()}
            for rule in dict.fromkeys(p.rule for p in found.values()):
                rows = np.array([i for i, p in found.items() if p.rule == rule])
                problems.add(rows, names[key], lambda i, found=found: found[i].detail, rule)
    relations = ORDER_RELATIONS["bar"]
    bad = np.zeros(len(values["open"]), dtype=bool)
    for lower, upper in relations:
        bad |= values[lower] > values[upper]
    if considered is not None:
        bad &= considered
    if problems:
        bad &= ~problems.bad_mask()  # a row already refused for a value is named once, for that value
    if not bad.any():
        return
    by_field: dict[tuple[str, str], list[int]] = {}
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(bad).tolist():
        found = relation_problem({k: float(values[k][i]) for k in PRICE_FIELDS["bar"]}, relations)
        assert found is not None
        reasons[i] = found.detail
        by_field.setdefault((found.field, found.rule), []).append(i)
    for key in ("open", "close", "high", "low"):
        for (field, rule), rows in by_field.items():
            if field == key:
                problems.add(np.array(rows), names[key], reasons.__getitem__, rule)


def check_increasing(
    ts: np.ndarray, previous: int | None, problems: Problems, field: str, considered: np.ndarray | None = None,
    sort_hint: str = "",
) -> int | None:
    """Flag rows whose ts is not after every earlier good row's; returns the new running maximum.

    Rows already rejected (and rows not ``considered``) are left out of the
    comparison, so with ``skip_bad`` one bad timestamp costs one row, not all
    the rows after it. ``sort_hint`` ends the reason of a row earlier than the
    one before it (not of an equal one: sorting does not mend a duplicate).
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
            lambda i: (f"timestamp {_iso(int(ts[i]))} is not after the previous row's {_iso(earlier[i])}"
                       + (sort_hint if ts[i] < earlier[i] else "")),
            NOT_INCREASING,
        )
    top = int(sub.max())
    return top if previous is None else max(top, previous)


def _iso(ns: int) -> str:
    return str(np.datetime64(ns, "ns"))
