"""The market-data contract: what a Bar, Trade or Quote must satisfy before any agent may act on it.

One set of rules for every input: the CSV parser applies them a column at a
time (``engine/data/checks.py``, vectorised over the same tables), the live
feed and replayed captures a message at a time (:class:`MarketDataCheck`).
A message that breaks one never reaches the broker: a price of 1e308 or -10,
a high below the low or a timestamp past int64 would fill orders at prices
no market printed.

* prices finite, > 0 and at most ``MAX_PRICE`` (beyond it price x size
  overflows the account's float arithmetic);
* sizes and volumes finite, >= 0 and at most ``MAX_QUANTITY``;
* ``low <= open <= high``, ``low <= close <= high``; ``bid <= ask``;
* timestamps inside int64 nanoseconds and, per instrument and type, never
  going backwards (bars strictly increase: two bars at one time is a
  duplicate; trades and quotes may share a nanosecond).
"""

from __future__ import annotations

import math
from typing import Any

from hub.messages import Bar, Quote, Trade

MAX_PRICE = 1e12
MAX_QUANTITY = 1e18
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

KIND = {Bar: "bar", Trade: "trade", Quote: "quote"}
PRICE_FIELDS = {"bar": ("open", "high", "low", "close"), "trade": ("price",), "quote": ("bid", "ask")}
QUANTITY_FIELDS = {"bar": ("volume",), "trade": ("size",), "quote": ("bid_size", "ask_size")}
# (lower, upper): lower <= upper must hold. For bars, the relation broken most often names the field to blame.
ORDER_RELATIONS = {
    "bar": (("low", "high"), ("low", "open"), ("open", "high"), ("low", "close"), ("close", "high")),
    "trade": (),
    "quote": (("bid", "ask"),),
}
BAR_BLAME_ORDER = ("open", "close", "high", "low")  # ties in blame go to the first of these
STRICTLY_INCREASING = {"bar": True, "trade": False, "quote": False}


class Problem(tuple):
    """``(rule, field, detail)``: the rule broken (a short stable name, counted), the field, a readable reason."""

    __slots__ = ()

    def __new__(cls, rule: str, field: str, detail: str) -> Problem:
        return tuple.__new__(cls, (rule, field, detail))

    @property
    def rule(self) -> str:
        return self[0]

    @property
    def field(self) -> str:
        return self[1]

    @property
    def detail(self) -> str:
        return self[2]


# ---------------------------------------------------------------- one value


def price_problem(name: str, value: float) -> Problem | None:
    if not math.isfinite(value):
        return Problem("not finite", name, f"{value!r} is not a finite number")
    if value <= 0:
        return Problem("not positive", name, f"{name} {value!r} is not positive")
    if value > MAX_PRICE:
        return Problem("too large", name, f"{name} {value!r} is above the largest price {MAX_PRICE:g}")
    return None


def quantity_problem(name: str, value: float) -> Problem | None:
    if not math.isfinite(value):
        return Problem("not finite", name, f"{value!r} is not a finite number")
    if value < 0:
        return Problem("negative", name, f"{name} {value!r} is negative")
    if value > MAX_QUANTITY:
        return Problem("too large", name, f"{name} {value!r} is above the largest quantity {MAX_QUANTITY:g}")
    return None


def timestamp_problem(ts: int) -> Problem | None:
    if not INT64_MIN <= ts <= INT64_MAX:
        return Problem("timestamp out of range", "ts", f"timestamp {ts} is outside int64 nanoseconds")
    return None


def relation_problem(values: dict[str, float], relations: tuple[tuple[str, str], ...]) -> Problem | None:
    """The broken ``lower <= upper`` relation, blaming the field in the most broken relations."""
    broken = [(a, b) for a, b in relations if not values[a] <= values[b]]
    if not broken:
        return None
    order = BAR_BLAME_ORDER if len(relations) > 1 else tuple(relations[0])
    votes = {k: sum(k in pair for pair in broken) for k in order}
    blamed = max(order, key=lambda k: (votes[k], -order.index(k)))
    a, b = next(pair for pair in broken if blamed in pair)
    other = b if blamed == a else a
    relation = "above" if blamed == a else "below"
    return Problem(f"{a} above {b}", blamed, f"{blamed} {values[blamed]!r} is {relation} {other} {values[other]!r}")


def message_problem(msg: Any) -> Problem | None:
    """The first rule one Bar/Trade/Quote breaks on its own (time order needs :class:`MarketDataCheck`)."""
    kind = KIND[type(msg)]
    bad = timestamp_problem(msg.ts)
    if bad is not None:
        return bad
    if not msg.instrument:
        return Problem("no instrument", "instrument", "instrument is empty")
    for name in PRICE_FIELDS[kind]:
        bad = price_problem(name, getattr(msg, name))
        if bad is not None:
            return bad
    for name in QUANTITY_FIELDS[kind]:
        bad = quantity_problem(name, getattr(msg, name))
        if bad is not None:
            return bad
    relations = ORDER_RELATIONS[kind]
    if relations:
        return relation_problem({name: getattr(msg, name) for name in PRICE_FIELDS[kind]}, relations)
    return None


# ---------------------------------------------------------------- a stream of messages


class MarketDataCheck:
    """Checks a stream message by message: each one alone, then its time against its instrument's last.

    ``check(msg)`` returns None for a good message (and remembers its time)
    or the :class:`Problem`; a refused message does not move the instrument's
    clock. ``counts`` holds refusals per rule, ``samples`` the first of each.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[type, str], int] = {}
        self.counts: dict[str, int] = {}
        self.samples: dict[str, str] = {}
        self.refused = 0

    def check(self, msg: Any) -> Problem | None:
        bad = message_problem(msg)
        if bad is None:
            key = (type(msg), msg.instrument)
            last = self._last.get(key)
            if last is not None and (msg.ts < last or (msg.ts == last and STRICTLY_INCREASING[KIND[type(msg)]])):
                bad = Problem("timestamp going backwards", "ts",
                              f"{KIND[type(msg)]} of {msg.instrument} at {msg.ts} is not after the previous one at {last}")
            else:
                self._last[key] = msg.ts
                return None
        self.refused += 1
        self.counts[bad.rule] = self.counts.get(bad.rule, 0) + 1
        return bad

    def first_of_its_kind(self, bad: Problem) -> bool:
        """True for the first refusal of each rule: the one worth a log line."""
        return self.counts.get(bad.rule) == 1

    def status(self) -> dict[str, Any]:
        return {"refused": self.refused, "by_rule": dict(self.counts), "samples": dict(self.samples)}
