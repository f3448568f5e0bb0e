"""Series: the last values pushed, in time order, whatever the capacity, growth and moves to the front."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.model_state import Series


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.lists(st.integers(-1000, 1000), max_size=300), st.integers(0, 300),
       st.integers(1, 40))
def test_it_holds_the_tail_of_what_was_pushed(capacity, ints, grow_at, new_capacity):
    series = Series(capacity)
    seen: list[float] = []
    cap = capacity
    for i, k in enumerate(ints):
        if i == grow_at:
            series.grow(new_capacity)
            cap = max(cap, new_capacity)
            assert list(series.values()) == seen[-len(series):] if seen else len(series) == 0
        series.push(float(k))
        seen.append(float(k))
        held = len(series)
        assert held == min(len(seen), cap) and series.count == len(seen) and series.latest == seen[-1]
        assert list(series.last(held)) == seen[-held:]
        assert [series.ago(j) for j in range(held)] == seen[::-1][:held]
    assert list(series.values()) == seen[len(seen) - len(series):]


def test_memory_is_flat_with_history():
    series = Series(30)
    size = len(series.store)
    for i in range(100_000):
        series.push(i * 0.5)
    assert len(series.store) == size and len(series) == 30 and series.ago(29) == 99_970 * 0.5


def test_views_are_read_only_and_bounds_are_checked():
    series = Series(4)
    assert math.isnan(series.latest) and len(series) == 0 and list(series.values()) == []
    series.push(1.0)
    view = series.last(1)
    with pytest.raises(ValueError):
        view[0] = 2.0
    with pytest.raises(ValueError, match="holding 1"):
        series.last(2)
    with pytest.raises(IndexError, match="holding 1"):
        series.ago(1)
    with pytest.raises(IndexError):
        series.ago(-1)
    with pytest.raises(ValueError):
        Series(0)


def test_growing_keeps_the_values_and_holds_more():
    series = Series(3)
    for x in range(10):
        series.push(float(x))
    series.grow(5)
    assert list(series.values()) == [7.0, 8.0, 9.0]
    for x in range(10, 14):
        series.push(float(x))
    assert list(series.values()) == [9.0, 10.0, 11.0, 12.0, 13.0]
    series.grow(2)  # never shrinks
    assert series.capacity == 5
