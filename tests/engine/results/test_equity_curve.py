"""equity.csv from the broker's blocks of marks: one row per timestamp, whatever the block and chunk boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.results import recorder as rec_mod
from engine.results.recorder import EquityCurve
from engine.results.timefmt import format_one

SECOND = 1_000_000_000


def _rows(path):
    return path.read_text().splitlines()[1:]


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.integers(0, 2), min_size=1, max_size=60),  # 0: same timestamp again (another instrument)
    cuts=st.lists(st.integers(1, 7), min_size=1, max_size=20),
    chunk=st.integers(2, 9),
)
def test_rows_are_one_per_timestamp_the_last_mark_wins(tmp_path_factory, steps, cuts, chunk):
    """Blocks cut anywhere (a same-timestamp pair split across blocks or chunks) give the rows of one pass.

    Within a block the broker already keeps one mark per timestamp; across
    blocks (a block published between two instruments' bars) it cannot.
    """
    marks = []
    ts = 0
    for i, step in enumerate(steps):
        ts += step * SECOND
        marks.append((ts, 100.0 + i, 200.0 + i))
    expected = {}
    for ts, cash, equity in marks:
        expected[ts] = (cash, equity)  # dicts keep first-insertion order: timestamps ascend
    path = tmp_path_factory.mktemp("eq") / "equity.csv"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rec_mod, "_CHUNK", chunk)
        curve = EquityCurve(path)
        start, k = 0, 0
        while start < len(marks):
            raw = marks[start:start + cuts[k % len(cuts)]]
            block = [m for i, m in enumerate(raw) if i + 1 == len(raw) or raw[i + 1][0] != m[0]]  # as the broker buffers
            start += len(raw) - len(block)
            curve.extend(tuple(m[0] for m in block), tuple(m[1] for m in block), tuple(m[2] for m in block))
            start += len(block)
            k += 1
        curve.close()
    rows = _rows(path)
    assert len(rows) == len(expected) == curve.rows
    for row, (ts, (cash, equity)) in zip(rows, expected.items(), strict=True):
        assert row == f"{format_one(ts, curve.unit)},{cash!r},{equity!r}"
    assert curve.last == list(expected.values())[-1][1]


def test_resolution_rises_with_a_finer_timestamp_in_any_block(tmp_path):
    """The resolution is decided when a chunk is written, over every row in it (and marks held, for fills)."""
    curve = EquityCurve(tmp_path / "equity.csv")
    day = 86_400 * SECOND
    curve.extend((0, day), (1.0, 1.0), (1.0, 1.0))
    assert curve.raise_unit(np.array([day], dtype=np.int64)) == 0
    curve.extend((2 * day + 5 * SECOND,), (1.0,), (1.0,))
    assert curve.raise_unit(np.array([day], dtype=np.int64)) == 1  # a fill's day stamp, beside a finer mark held
    curve.close()
    assert curve.unit == 1
    assert _rows(tmp_path / "equity.csv")[0].startswith("1970-01-01T00:00:00,")


def test_a_block_of_marks_with_unequal_columns_is_refused_and_nothing_is_held(tmp_path):
    curve = EquityCurve(tmp_path / "equity.csv")
    with pytest.raises(ValueError, match="as many cash and equity values as stamps"):
        curve.extend((1, 2), (1.0,), (1.0, 2.0))
    assert curve.held == 0
    curve.close()
