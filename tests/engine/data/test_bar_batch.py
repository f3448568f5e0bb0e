"""Bars built from columns by the compiled loop: the same structs the plain constructor builds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.bar_batch import bars
from hub.messages import Bar

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.sampled_from(["A", "B"]), finite, finite, finite, finite,
                          st.floats()), max_size=30), st.booleans())
def test_bars_equal_the_constructors_bars(rows, one_name):
    names = "X" if one_name else [r[1] for r in rows]
    columns = [np.array([r[i] for r in rows], dtype=np.int64 if i == 0 else np.float64) for i in (0, 2, 3, 4, 5, 6)]
    expected = [Bar(r[0], "X" if one_name else r[1], *r[2:]) for r in rows]
    got = bars(names, *columns)
    assert repr(got) == repr(expected)  # repr: a NaN volume equals itself
    assert all(type(b.ts) is int and type(b.close) is float for b in got)


def test_strided_views_and_a_wrong_name_count():
    ts = np.arange(10, dtype=np.int64)
    prices = np.arange(10, dtype=np.float64)
    got = bars("X", ts[::2], prices[::2], prices[::2], prices[::2], prices[::2], prices[::2])
    assert [b.ts for b in got] == [0, 2, 4, 6, 8]
    with pytest.raises(ValueError, match="3 instrument names for 5 rows"):
        bars(["A", "B", "C"], ts[:5], prices[:5], prices[:5], prices[:5], prices[:5], prices[:5])
