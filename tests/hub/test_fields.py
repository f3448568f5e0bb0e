"""Compiled handlers read message fields by offset: the same objects getattr returns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.fields import offset_of, read_field
from hub.messages import Bar, Fill, MarketState


@given(st.integers(-(2**63), 2**63 - 1), st.text(max_size=8), st.floats(allow_nan=False), st.floats())
def test_every_field_of_a_bar_and_a_market_state_reads_as_getattr(ts, name, price, volume):
    bar = Bar(ts, name, price, price + 1.0, price - 1.0, price, volume)
    state = MarketState(ts, bar, "strategy", ("fast",), (price,))
    for msg in (bar, state):
        for field_name in type(msg).__struct_fields__:
            assert read_field(msg, offset_of(type(msg), field_name)) is getattr(msg, field_name)


def test_inherited_fields_share_the_base_offset():
    assert offset_of(Bar, "ts") == offset_of(Fill, "ts") == offset_of(MarketState, "ts")


def test_only_stored_fields_have_an_offset():
    with pytest.raises(TypeError, match="not a stored field"):
        offset_of(Bar, "__struct_fields__")
    with pytest.raises(AttributeError):
        offset_of(Bar, "no_such_field")
