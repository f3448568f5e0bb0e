"""Exact running sums equal ``math.fsum`` bit for bit, and an SMA equals ``math.fsum(window) / period``.

Adversarial values: every float hypothesis draws (subnormals, huge
magnitudes, signed zeros), exact cancellations, round-half-even ties across
partials, many exponents at once (more partials than the first array holds),
and the values the exact sums leave to fsum itself (NaN, infinities,
magnitudes near the float limit), whose results (or errors) must be fsum's.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.model_state import ExactSum, Series, Sma
from agents.model_state.exact_sum import MAX_TOTAL, fits, limit_for
from tests.agents.model_state.support import same

BOUNDED = 2.0**990  # |x| below this: sums of up to 1,000 values stay far from overflow
ANY_FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-BOUNDED, max_value=BOUNDED)
SCALES = st.builds(lambda m, e: math.ldexp(m, e), st.integers(-(2**53), 2**53), st.integers(-1074, 937))
PRICES = st.builds(lambda c: c / 100, st.integers(1, 10**7))  # a 0.01 grid, the source of exact SMA ties


@st.composite
def ties(draw):
    """A value, half its ulp (a tie), and something far below that decides which way the tie goes."""
    a = draw(st.floats(min_value=1e-300, max_value=1e300))
    half = math.ulp(a) / 2
    below = half * draw(st.sampled_from([0.0, 2.0**-60, -(2.0**-60), 2.0**-1000]))
    return [a, half, below] if below else [a, half]


VALUES = st.one_of(ANY_FINITE, SCALES, PRICES)
SEQUENCES = st.one_of(
    st.lists(VALUES, max_size=60),
    st.lists(VALUES, max_size=30).map(lambda xs: xs + [-x for x in reversed(xs)] + xs[:3]),  # cancellations
    ties().flatmap(lambda t: st.permutations(t)),
    st.lists(ties(), max_size=5).map(lambda ts: [x for t in ts for x in t]),
)


def exact_sum(values) -> ExactSum:
    total = ExactSum()
    for x in values:
        total.add(x)
    return total


@settings(max_examples=1000, deadline=None)
@given(SEQUENCES)
def test_adding_values_one_at_a_time_is_fsum(values):
    assert same(exact_sum(values).rounded(), math.fsum(values))


# Cases from CPython's own fsum tests: cancellation, ties broken by a far smaller value, many terms.
@pytest.mark.parametrize("values", [
    [], [0.0], [-0.0], [-0.0, -0.0], [1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50],
    [2.0**53, -0.5, -(2.0**-54)], [2.0**53, 1.0, 2.0**-100], [2.0**53 + 10.0, 1.0, 2.0**-100],
    [2.0**53 - 4.0, 0.5, 2.0**-54], [1e16, 1.0, 1e-16], [1e-16, 1.0, 1e16], [1e-16, 1e-16, 1e16],
    [1.0 / n for n in range(1, 1001)], [(-1.0) ** n / n for n in range(1, 1001)],
    [math.ldexp(1.0, e) * (-1) ** e for e in range(-1074, 980, 3)],  # ~680 partials: the array grows
])
def test_known_hard_sums(values):
    assert same(exact_sum(values).rounded(), math.fsum(values))


@settings(max_examples=500, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=80), st.integers(1, 12))
def test_a_sliding_window_is_fsum_of_the_window(values, period):
    total = ExactSum()
    for t, x in enumerate(values):
        if t < period:
            total.add(x)
        else:
            total.slide(x, values[t - period])
        window = values[max(0, t - period + 1) : t + 1]
        assert same(total.rounded(), math.fsum(window)), (t, window)


def test_partials_stay_few_however_long_the_window_slides():
    values = [round(10.0 + (i * 7919 % 613) * 0.01, 2) for i in range(100_000)]
    total = ExactSum()
    most = 0
    for t, x in enumerate(values):
        if t < 30:
            total.add(x)
        else:
            total.slide(x, values[t - 30])
        most = max(most, total.size)
    assert most <= 4
    assert total.rounded() == math.fsum(values[-30:])


def test_what_fits_is_finite_and_bounded_by_the_period():
    limit = limit_for(30)
    assert limit == MAX_TOTAL / 30
    assert fits(limit, limit) and fits(-limit, limit) and fits(0.0, limit) and fits(5e-324, limit)
    assert not fits(math.nextafter(limit, math.inf), limit)
    assert not fits(math.nan, limit) and not fits(math.inf, limit) and not fits(-math.inf, limit)


# ------------------------------------------------------------------ the SMA on top of it

SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 2.0**1000, 2.0**999])
ANY = st.one_of(VALUES, VALUES, VALUES, SPECIAL)


def run_sma(values, period, capacity=0):
    """The SMA after each value, or the exception it raised."""
    src = Series(capacity or period + 1)
    sma = Sma(src, period)
    out = []
    for x in values:
        src.push(x)
        try:
            out.append(sma.update())
        except (ValueError, OverflowError) as exc:
            out.append(type(exc))
    return out


def fsum_mean(values, t, period):
    if t < period - 1:
        return math.nan
    try:
        return math.fsum(values[t - period + 1 : t + 1]) / period
    except (ValueError, OverflowError) as exc:  # inf - inf, or an intermediate overflow
        return type(exc)


def agree(got, want) -> bool:
    return got is want if isinstance(want, type) else same(got, want)


@settings(max_examples=500, deadline=None)
@given(st.lists(ANY, min_size=1, max_size=80), st.integers(1, 12))
def test_sma_equals_fsum_of_the_window_over_period_or_raises_as_fsum_does(values, period):
    for t, got in enumerate(run_sma(values, period)):
        assert agree(got, fsum_mean(values, t, period)), (t, values)


def test_sma_outside_the_exact_range_takes_fsum_and_comes_back():
    values = [1.0, 2.0, math.inf, 3.0, 4.0, 5.0, math.nan, 6.0, 7.0, 8.0]
    out = run_sma(values, 2)
    assert out[2:6] == [math.inf, math.inf, 3.5, 4.5] and math.isnan(out[6]) and math.isnan(out[7])
    assert out[8:] == [6.5, 7.5]
    assert run_sma([1.0, math.inf, -math.inf, 2.0, 3.0], 2)[2:] == [ValueError, -math.inf, 2.5]
    assert run_sma([1e308, 1e308, 1.0, 2.0, 3.0], 2)[1:] == [OverflowError, math.fsum([1e308, 1.0]) / 2, 1.5, 2.5]
    big = math.nextafter(2.0**999, math.inf)  # just beyond what a window of 2 sums exactly
    assert run_sma([big, big, 1.0], 2)[1:] == [big, math.fsum([big, 1.0]) / 2]


def test_sma_warms_up_for_period_values_and_a_larger_capacity_changes_nothing():
    values = [float(i % 7) * 0.37 for i in range(200)]
    out = run_sma(values, 5)
    assert all(math.isnan(v) for v in out[:4]) and not math.isnan(out[4])
    assert all(same(a, b) for a, b in zip(out, run_sma(values, 5, capacity=300), strict=True))
