"""RingBuffer: the last n values in time order, whatever the block, capacity and growth."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.model_state import RingBuffer


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.integers(1, 9), st.lists(st.integers(-1000, 1000), max_size=120),
       st.integers(0, 120), st.integers(1, 30))
def test_last_n_is_the_tail(capacity, block, ints, grow_at, new_capacity):
    ring = RingBuffer(capacity, block)
    seen: list[float] = []
    cap = capacity
    for i, k in enumerate(ints):
        if i == grow_at:
            ring.grow(new_capacity)
            cap = max(cap, new_capacity)
            assert list(ring.values()) == seen[-cap:][-len(ring):]
        ring.append(float(k))
        seen.append(float(k))
        held = min(len(seen), cap) if i < grow_at else len(ring)
        assert len(ring) <= cap
        if i % 3 == 0:  # views also flush mid-block
            n = len(ring)
            assert list(ring.last(n)) == seen[-n:] if n else list(ring.last(0)) == []
            assert held == n
    assert list(ring.values()) == seen[len(seen) - len(ring):]


def test_capacity_after_growth_is_kept_values_then_new_ones():
    ring = RingBuffer(3, block=2)
    for x in range(10):
        ring.append(float(x))
    ring.grow(5)
    assert list(ring.values()) == [7.0, 8.0, 9.0]
    for x in range(10, 14):
        ring.append(float(x))
    assert list(ring.values()) == [9.0, 10.0, 11.0, 12.0, 13.0]


def test_views_are_read_only_and_bounds_are_checked():
    ring = RingBuffer(4)
    ring.append(1.0)
    view = ring.last(1)
    with pytest.raises(ValueError):
        view[0] = 2.0
    with pytest.raises(ValueError, match="holds 1"):
        ring.last(2)
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_a_block_larger_than_the_capacity_keeps_only_the_capacity():
    ring = RingBuffer(2, block=10)
    for x in range(25):
        ring.append(float(x))
    assert list(ring.values()) == [23.0, 24.0]
