"""Golden comparisons against real backtrader 1.9.78.123 indicators.

Every value must be bit-for-bit equal: SMAs because strategies compare them
(at exact ties on a 0.01 grid the sign of a ~1e-15 difference decides a
trade), and EMA, std, RSI and ATR because the same float operations in the
same order (libm's pow included) give the same bits.
"""

from __future__ import annotations

import pytest

from tests.agents.model_state.support import (
    grid_series,
    load_600559,
    run_backtrader,
    run_ours,
    same,
    spec,
    walk_series,
)

SPECS = [
    spec("sma", 10), spec("sma", 30), spec("sma", 1), spec("sma", 5, "volume"), spec("sma", 7, "high"),
    spec("ema", 12), spec("ema", 1), spec("ema", 9, "open"),
    spec("std", 20), spec("std", 7, "low"), spec("std", 3, "volume"),
    spec("rsi", 14), spec("rsi", 2), spec("rsi", 6, "high"),
    spec("atr", 14), spec("atr", 3),
]

SERIES = {
    "grid_a": lambda: grid_series(4000, seed=1),
    "grid_b": lambda: grid_series(4000, seed=2, lo=2000, hi=2003),
    "walk": lambda: walk_series(3000, seed=3),
    "600559": load_600559,
}


def _check(rows, specs, runonce=True, capacity=0):
    ref = run_backtrader(rows, specs, runonce=runonce)
    ours = run_ours(rows, specs, capacity=capacity)
    for s in specs:
        want, got = ref[s.name], ours[s.name]
        assert len(want) == len(got) == len(rows)
        first_want = next(i for i, v in enumerate(want) if v == v)
        first_got = next(i for i, v in enumerate(got) if v == v)
        assert first_got == first_want, f"{s.name} warms up at bar {first_got}, backtrader at {first_want}"
        bad = [(i, w, g) for i, (w, g) in enumerate(zip(want, got, strict=True)) if not same(w, g)]
        assert not bad, f"{s.name}: {len(bad)} bars differ, first {bad[:3]}"
    return ref


@pytest.mark.parametrize("series", sorted(SERIES))
def test_indicators_equal_backtrader(series):
    _check(SERIES[series](), SPECS)


def test_sma_ties_on_a_cent_grid_are_reproduced_exactly():
    rows = grid_series(6000, seed=7)
    fast, slow = spec("sma", 10), spec("sma", 30)
    ref = _check(rows, [fast, slow])
    ties = sum(a == b for a, b in zip(ref[fast.name], ref[slow.name], strict=True))
    assert ties >= 5, "the series should contain exact SMA ties"
    # The check has teeth: a plain running float sum does not reproduce fsum on this data.
    closes = [r[3] for r in rows]
    running, naive = 0.0, []
    for i, x in enumerate(closes):
        running += x - (closes[i - 10] if i >= 10 else 0.0)
        naive.append(running / 10)
    assert any(n != w for n, w in zip(naive[9:], ref[fast.name][9:], strict=True))


def test_next_mode_backtrader_agrees_too():
    _check(grid_series(1500, seed=11), [spec("sma", 10), spec("ema", 5), spec("std", 8), spec("rsi", 4),
                                        spec("atr", 6)], runonce=False)


def test_series_moving_their_values_to_the_front_change_nothing():
    rows = walk_series(700, seed=5)
    _check(rows, [spec("sma", 17), spec("std", 9)])  # capacity 18: the values move every 64 bars
    _check(rows, [spec("sma", 1), spec("ema", 1), spec("std", 1)])  # capacity 2, the smallest an SMA reads back


def test_rsi_on_flat_and_rising_stretches_matches_backtraders_safe_division():
    # Flat then strictly rising closes: smoothed down moves are exactly 0 (0/0, then x/0).
    rows = [(10.0, 10.0, 10.0, 10.0, 1.0)] * 30 + [(10.0 + i, 10.0 + i, 10.0 + i, 10.0 + i, 1.0) for i in range(30)]
    rows += grid_series(200, seed=3)
    ref = _check(rows, [spec("rsi", 5), spec("atr", 5), spec("std", 5)])
    assert 50.0 in ref["rsi5_close"] and 100.0 in ref["rsi5_close"]
