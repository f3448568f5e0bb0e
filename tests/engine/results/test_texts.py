"""Column formatting of the result files: exactly ``repr`` and numpy's ISO text, only faster."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.results.texts import csv_rows, float_texts, stamp_bytes
from engine.results.timefmt import UNITS, format_ts

DAY = 86_400_000_000_000
SECOND = 1_000_000_000
floats = st.floats(allow_nan=True, allow_infinity=True)
prices = st.integers(-10**9, 10**9).map(lambda c: c / 100)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(floats, prices, st.sampled_from([0.0, -0.0, 1.5])), max_size=40))
def test_float_texts_are_repr(values):
    """Runs of equal values (formatted once) included; -0.0 next to 0.0 keeps its sign."""
    assert float_texts(values) == [repr(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(floats, prices), st.one_of(prices, floats)), min_size=1, max_size=30))
def test_csv_rows_are_repr_joined(rows):
    stamps = [f"2020-01-{i % 28 + 1:02d}" for i in range(len(rows))]
    a = [r[0] for r in rows]
    b = [r[1] for r in rows]
    expected = "".join(f"{s},{x!r},{y!r}\n" for s, x, y in zip(stamps, a, b, strict=True))
    assert csv_rows([s.encode() for s in stamps], a, b).decode() == expected


def test_boundaries_of_positional_repr():
    edge = [1e16, 9999999999999998.0, 1e-4, 0.0001234, 9.999999999999999e-05, -0.0, 0.0, 5e-324, 1.7976931348623157e308]
    assert float_texts(edge) == [repr(v) for v in edge]
    for v in edge:
        assert csv_rows([b"d"], [v]) == f"d,{v!r}\n".encode()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.integers(-(2**63) + 2 * DAY, 2**63 - 1), st.integers(0, 4_102_444_800 * SECOND)), min_size=1, max_size=50),
    st.sampled_from([0, 1, 2]),
)
def test_stamp_texts_are_numpys_iso_text(stamps, unit):
    ts = np.array(stamps, dtype=np.int64)
    if unit == 0:
        ts = ts // DAY * DAY
    elif unit == 1:
        ts = ts // SECOND * SECOND
    assert [b.decode() for b in stamp_bytes(ts, unit)] == format_ts(ts, UNITS[unit]).tolist()


cells = st.one_of(floats, prices, st.none(), st.integers(-5, 5), st.text(max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, min_size=1, max_size=6), max_size=12), st.integers(1, 5))
def test_csv_rows_writer_matches_the_csv_module_with_repr(rows, batch):
    """Batched rows: floats and ints as repr, None empty, text quoted exactly as csv.writer quotes it."""
    import csv
    import io

    from engine.results.recorder import Batches
    from engine.results.texts import line_writer, write_rows

    ours, ref = io.StringIO(), io.StringIO()
    out = Batches(lambda batch_rows: write_rows(batch_rows, (), [], line_writer(ours)), batch=batch)
    writer = csv.writer(ref, lineterminator="\n")
    for row in rows:
        out.add(row)
        writer.writerow(["" if c is None else c if isinstance(c, str) else repr(c) for c in row])
    out.flush()
    assert ours.getvalue() == ref.getvalue()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 106_000), st.one_of(st.none(), st.integers(0, 106_000)), prices),
             max_size=12),
    st.integers(1, 5),
    st.sampled_from([0, 1]),
)
def test_stamp_columns_are_formatted_a_batch_at_a_time(rows, batch, unit):
    """Integer cells of a stamp column become timestamps at the unit the formatter picks; None stays empty."""
    import io

    from engine.results.recorder import Batches
    from engine.results.texts import line_writer, stamp_cells, write_rows
    from engine.results.timefmt import DIVISORS, format_one

    step = DIVISORS[unit] * (1 if unit == 0 else 1_399)  # int64 ns reach 2262: days to 2260, seconds to 1974
    ours = io.StringIO()
    write_line = line_writer(ours)
    out = Batches(lambda batch_rows: write_rows(
        batch_rows, (0, 1), stamp_bytes(stamp_cells(batch_rows, (0, 1)), unit), write_line), batch=batch)
    out.add(["submitted", "closed", "price"])
    expected = ["submitted,closed,price"]
    for a, b, price in rows:
        out.add([a * step, None if b is None else b * step, price])
        expected.append(f"{format_one(a * step, unit)},{'' if b is None else format_one(b * step, unit)},{price!r}")
    out.flush()
    assert ours.getvalue().splitlines() == expected
