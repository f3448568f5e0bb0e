"""The exact-sum SMA equals ``math.fsum(window) / period`` bit for bit, on both paths."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.model_state import SCALE, Sma, Source, mean_of_scaled, scaled
from tests.agents.model_state.support import same

EXACT = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) >= 2.0**-27)
TINY = st.floats(min_value=-(2.0**-27), max_value=2.0**-27, allow_nan=False, allow_subnormal=True).filter(
    lambda x: x != 0 and abs(x) < 2.0**-27
)
HUGE = st.floats(min_value=2.0**942, max_value=2.0**944.5)  # products and window sums overflow the scaled path
ANY = st.one_of(EXACT, EXACT, EXACT, TINY, HUGE, st.floats(allow_nan=False, allow_infinity=False, width=32))


def _run_sma(values, period, capacity=None):
    sources = {}

    def source(field):
        if field not in sources:
            sources[field] = Source(capacity or period)
        return sources[field]

    sma = Sma(source, period)
    src = sources["close"]
    out = []
    for x in values:
        src.push(x)
        out.append(sma.update())
    return out, src


def _fsum_mean(values, i, period):
    return math.fsum(values[i - period + 1 : i + 1]) / period if i >= period - 1 else math.nan


def test_scaled_is_exact_in_range_and_none_outside():
    for x in (0.0, -0.0, 0.01, 12.34, -7.5, 2.0**-27, 1e280, 2.0**943):
        n = scaled(x)
        assert n is not None and n == x * SCALE  # int == float compares exactly
    for x in (2.0**-28, -(2.0**-30), 5e-324, math.inf, -math.inf, math.nan, 2.0**944, 1e300):
        assert scaled(x) is None
    assert mean_of_scaled(scaled(0.1) + scaled(0.2) + scaled(0.3), 3) == math.fsum([0.1, 0.2, 0.3]) / 3


@settings(max_examples=300, deadline=None)
@given(st.lists(EXACT, min_size=1, max_size=80), st.integers(1, 12))
def test_exact_path_equals_fsum(values, period):
    out, src = _run_sma(values, period)
    assert src.run == len(values)  # never fell back
    for i, got in enumerate(out):
        assert same(got, _fsum_mean(values, i, period)), (i, values)


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY, min_size=1, max_size=80), st.integers(1, 12))
def test_with_fallback_values_still_equals_fsum(values, period):
    out, _ = _run_sma(values, period)
    for i, got in enumerate(out):
        assert same(got, _fsum_mean(values, i, period)), (i, values)


def test_fallback_path_is_taken_and_left():
    values = [1.0, 2.0, 1e-12, 3.0, 4.0, 5.0, 6.0, 7.0]
    out, src = _run_sma(values, 3)
    assert src.run == 5  # the tiny value reset it
    assert out[3] == math.fsum([2.0, 1e-12, 3.0]) / 3 and out[3] != (2.0 + 3.0) / 3  # via fsum
    assert out[-1] == 6.0  # back on the exact path
    out, _ = _run_sma([1.0, math.inf, 2.0, 3.0, 4.0], 2)
    assert out[1:] == [math.inf, math.inf, 2.5, 3.5]
    out, _ = _run_sma([1.0, math.nan, 2.0, 3.0], 2)
    assert math.isnan(out[1]) and math.isnan(out[2]) and out[3] == 2.5
    big = 2.0**943.5  # each value scales exactly, their sum does not fit a float once scaled
    out, _ = _run_sma([big, big, 1.0], 2)
    assert out[1] == big and out[2] == math.fsum([big, 1.0]) / 2


def test_a_larger_capacity_ring_gives_the_same_values():
    values = [float(i % 7) * 0.37 for i in range(100)]
    assert _run_sma(values, 5)[0] == _run_sma(values, 5, capacity=40)[0]


def test_the_128_bit_prefix_sums_stay_exact_when_they_wrap():
    """Sums are kept mod 2**128: the running total wraps many times, every window is still fsum's."""
    near_limit = 2.0**46 / 3 - 1.0  # the largest magnitudes the exact path takes at capacity 2
    values = [(near_limit - i) * (1 if i % 3 else -1) for i in range(400)]  # scaled ~2**124 each
    out, src = _run_sma(values, 2)
    assert src.run == len(values)  # all on the exact path
    for i, got in enumerate(out):
        assert same(got, _fsum_mean(values, i, 2)), i


def test_a_value_beyond_the_128_bit_range_takes_the_fsum_path():
    """Above 2**46 / (capacity + 1) a window's scaled sum might not fit 128 bits: that value goes through fsum."""
    big = 2.0**46  # exact as a Python int before, now beyond the limit at any capacity
    values = [1.0, big, 2.0, 3.0, 4.0]
    out, src = _run_sma(values, 2, capacity=2)
    assert src.run == 3  # reset by the big value
    for i, got in enumerate(out):
        assert same(got, _fsum_mean(values, i, 2)), i


def test_growing_restarts_the_exact_path_without_reading_old_prefixes():
    src = Source(3)
    src.enable_sums()
    for x in (1.5, 2.5, 3.5, 4.5):
        src.push(x)
    src.grow(10)
    assert src.run == 0 and src.mean(3) == math.fsum([2.5, 3.5, 4.5]) / 3  # the history survived the growth
    for x in (5.5, 6.5, 7.5):
        src.push(x)
    assert src.run == 3 and src.mean(3) == 6.5 and src.mean(6) == math.fsum([2.5, 3.5, 4.5, 5.5, 6.5, 7.5]) / 6
