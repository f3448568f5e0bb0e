"""Equity figures streamed chunk by chunk equal the same figures on the whole curve at once."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.results.decimate import Decimator
from engine.results.equity_stats import DAY, EquityStats


def streamed(ts, equity, cuts):
    stats = EquityStats()
    start = 0
    for cut in [*sorted(set(cuts)), len(ts)]:
        if cut > start:
            stats.add(ts[start:cut], equity[start:cut])
            start = cut
    stats.finish()
    return stats


FIGURES = ("marks", "peak", "max_drawdown", "max_drawdown_duration", "episodes", "episode_depths",
           "episode_durations", "returns", "mean", "variance", "downside_sq", "days", "weekend_marks")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0]), min_size=2, max_size=80),
       st.lists(st.integers(1, 79), max_size=6), st.integers(1, 3))
def test_any_chunking_gives_the_figures_of_one_pass(steps, cuts, per_day):
    equity = 100.0 + np.cumsum(steps)
    ts = (np.arange(len(equity)) // per_day * DAY + np.arange(len(equity)) % per_day).astype(np.int64)
    whole = streamed(ts, equity, [])
    parts = streamed(ts, equity, [c for c in cuts if c < len(ts)])
    for name in FIGURES:
        a, b = getattr(whole, name), getattr(parts, name)
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), name
    assert whole.per_day == parts.per_day and whole.month_ends == parts.month_ends
    returns = equity[1:] / equity[:-1] - 1
    assert math.isclose(whole.mean, returns.mean(), rel_tol=1e-12, abs_tol=1e-15)
    if len(returns) > 1:
        assert math.isclose(whole.variance, returns.var(ddof=1), rel_tol=1e-9, abs_tol=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.lists(st.integers(1, 700), max_size=8), st.integers(2, 50))
def test_decimation_is_bounded_and_keeps_the_extremes(n, cuts, points):
    rng = np.random.default_rng(n)
    close = rng.normal(size=n).cumsum()
    high, low = close + rng.random(n), close - rng.random(n)
    ts = np.arange(n, dtype=np.int64)
    chart = Decimator(points)
    start = 0
    for cut in [*sorted(set(c for c in cuts if c < n)), n]:
        chart.add(ts[start:cut], close[start:cut], high[start:cut], low[start:cut], close[start:cut])
        start = cut
    bts, o, h, lo, c = chart.buckets()
    assert len(bts) <= 2 * points + 1
    assert bts[0] == 0 and c[-1] == close[-1] and o[0] == close[0]
    assert h.max() == high.max() and lo.min() == low.min()
    assert (np.diff(bts) > 0).all()
