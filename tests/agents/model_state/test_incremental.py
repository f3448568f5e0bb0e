"""Incremental EMA/std/RSI/ATR equal the same definitions recomputed from scratch at every bar."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agents.model_state.support import close, run_ours, spec


def ema_scratch(xs, p, t):
    if t < p - 1:
        return math.nan
    v = math.fsum(xs[:p]) / p
    a = 2.0 / (1.0 + p)
    for x in xs[p : t + 1]:
        v = v * (1.0 - a) + x * a
    return v


def std_scratch(xs, p, t):
    if t < p - 1:
        return math.nan
    w = xs[t - p + 1 : t + 1]
    return abs(math.fsum(x**2 for x in w) / p - (math.fsum(w) / p) ** 2) ** 0.5


def wilder(values, p):
    """Wilder smoothing of a whole list, from scratch: last value (NaN when too short)."""
    if len(values) < p:
        return math.nan
    v = math.fsum(values[:p]) / p
    for x in values[p:]:
        v = v * (1.0 - 1.0 / p) + x / p
    return v


def rsi_scratch(xs, p, t):
    moves = [xs[i] - xs[i - 1] for i in range(1, t + 1)]
    up = wilder([max(m, 0.0) for m in moves], p)
    down = wilder([max(-m, 0.0) for m in moves], p)
    if down == 0.0:
        return 50.0 if up == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + up / down)


def atr_scratch(rows, p, t):
    trs = [max(rows[i][1], rows[i - 1][3]) - min(rows[i][2], rows[i - 1][3]) for i in range(1, t + 1)]
    return wilder(trs, p)


PRICE = st.floats(min_value=1.0, max_value=1000.0)


@st.composite
def bars(draw):
    n = draw(st.integers(1, 60))
    rows = []
    for _ in range(n):
        o, c = draw(PRICE), draw(PRICE)
        if draw(st.booleans()):  # repeat the last close: exercises zero moves
            c = rows[-1][3] if rows else c
        h = max(o, c) + draw(st.floats(0.0, 5.0))
        lo = min(o, c) - draw(st.floats(0.0, 0.9))
        rows.append((o, h, lo, c, draw(st.floats(0.0, 1e7))))
    return rows


@settings(max_examples=200, deadline=None)
@given(bars(), st.integers(1, 10))
def test_incremental_equals_scratch(rows, p):
    specs = [spec("ema", p), spec("std", p), spec("rsi", p), spec("atr", p), spec("std", p, "volume")]
    ours = run_ours(rows, specs)
    closes = [r[3] for r in rows]
    vols = [r[4] for r in rows]
    for t in range(len(rows)):
        assert close(ours[f"ema{p}_close"][t], ema_scratch(closes, p, t))
        assert close(ours[f"std{p}_close"][t], std_scratch(closes, p, t), abs_=1e-6)
        assert close(ours[f"std{p}_volume"][t], std_scratch(vols, p, t), abs_=1e-3)
        assert close(ours[f"rsi{p}_close"][t], rsi_scratch(closes, p, t))
        assert close(ours[f"atr{p}_hlc"][t], atr_scratch(rows, p, t))
