"""The indicator protocol: warm-up as declared, shared parts built once, indicators written outside the package.

What issue 12 builds on (user indicators, indicators of indicators): an
:class:`Indicator` subclass written in plain Python runs in the instrument's
state like a built-in, and an indicator can read another's values as a series.
"""

from __future__ import annotations

import math

import pytest

from agents.model_state import Indicator, InstrumentState, Series, Sma, Std
from tests.agents.model_state.support import bars_of, grid_series, run_ours, same, spec

KINDS = [("sma", 7), ("ema", 7), ("std", 7), ("rsi", 7), ("atr", 7), ("sma", 1), ("rsi", 1)]


@pytest.mark.parametrize(("kind", "period"), KINDS)
@pytest.mark.parametrize("late", [0, 13])
def test_the_first_value_comes_after_warmup_bars_counted_from_its_creation(kind, period, late):
    bars = bars_of(grid_series(60, seed=4))
    state = InstrumentState(max(period, 3) + 1)
    state.add(spec("sma", 3))  # something already running, so series exist before the late one
    for bar in bars[:late]:
        state.update(bar)
    indicator = state.add(spec(kind, period))
    values = [state.update(bar)[1] for bar in bars[late:]]
    first = next(i for i, v in enumerate(values) if not math.isnan(v))
    assert first == indicator.warmup - 1
    assert not any(math.isnan(v) for v in values[first:])


def test_a_std_shares_the_sma_of_its_period_and_identical_specs_are_one_indicator():
    state = InstrumentState(21)
    sma = state.add(spec("sma", 20))
    std = state.add(spec("std", 20))
    again = state.add(spec("sma", 20, name="other name"))
    assert isinstance(std, Std) and std.mean is sma and again is sma
    assert [type(n).__name__ for n in state.nodes] == ["Sma", "Square", "Sma", "Std"]
    rows = grid_series(300, seed=8)
    out = [state.update(bar) for bar in bars_of(rows)]
    alone = run_ours(rows, [spec("std", 20)])["std20_close"]
    assert all(same(a[1], b) for a, b in zip(out, alone, strict=True))


class Doubled(Indicator):
    """Written as a user would: plain Python, state in attributes, one update per bar."""

    def __init__(self, src: Series) -> None:
        super().__init__(1)
        self.src = src
        self.calls = 0

    def update(self) -> float:
        self.calls += 1
        return self.src.latest * 2.0


def test_an_indicator_written_in_python_runs_like_a_built_in_and_can_be_read_by_another():
    state = InstrumentState(4)
    doubled = state.node(("doubled", "close"), lambda: Doubled(state.series("close")))
    of_doubled = state.node(("sma", 3, ("doubled", "close")), lambda: Sma(state.series(("doubled", "close")), 3))
    state.track(doubled)
    state.track(of_doubled)
    closes = [1.0, 2.0, 4.0, 8.0, 16.0]
    out = [state.update(bar) for bar in bars_of([(c, c, c, c, 1.0) for c in closes])]
    assert [o[0] for o in out] == [2.0, 4.0, 8.0, 16.0, 32.0] and doubled.calls == 5
    assert all(math.isnan(o[1]) for o in out[:2])
    assert [o[1] for o in out[2:]] == [math.fsum([2.0, 4.0, 8.0]) / 3, 28.0 / 3, 56.0 / 3]


def test_only_the_states_own_indicators_can_be_tracked():
    state = InstrumentState(4)
    with pytest.raises(ValueError, match="not an indicator of this instrument"):
        state.track(Doubled(Series(4)))
