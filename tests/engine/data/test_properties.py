"""Property tests: any valid table round-trips exactly; any single corrupted cell is named exactly."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import DataError, load_columns
from hub.market_rules import MAX_PRICE, MAX_QUANTITY

FIELDS = ("ts", "open", "high", "low", "close", "volume")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every value the market-data rules allow (hub.market_rules): prices in (0, MAX_PRICE], volumes in [0, MAX_QUANTITY].
prices = st.one_of(st.floats(min_value=0.01, max_value=1e6), st.floats(min_value=1e-300, max_value=MAX_PRICE))
volumes = st.one_of(st.just(0.0), st.floats(min_value=1e-300, max_value=MAX_QUANTITY))


@st.composite
def bar_tables(draw):
    n = draw(st.integers(1, 40))
    start = draw(st.integers(10**8, 4 * 10**9))  # seconds, 1973..2096: unambiguous in every epoch unit
    steps = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    ts_s = (start + np.cumsum(steps)).tolist()
    rows = []
    for t in ts_s:
        a, b = draw(prices), draw(prices)
        lo, hi = min(a, b), max(a, b)
        o = draw(st.sampled_from([lo, hi, (lo + hi) / 2]))
        c = draw(st.sampled_from([lo, hi, o]))
        vol = draw(volumes)
        rows.append([t, o, hi, lo, c, vol])
    return rows


@st.composite
def layouts(draw):
    """A column order, names (mapped or autodetected), extras, and a timestamp spelling."""
    names = {
        "ts": draw(st.sampled_from(["timestamp", "Time", "DATETIME", "date", "When"])),
        "open": draw(st.sampled_from(["open", "Open", "o"])),
        "high": draw(st.sampled_from(["high", "HIGH", "h"])),
        "low": draw(st.sampled_from(["low", "Low", "l"])),
        "close": draw(st.sampled_from(["close", "Close", "c"])),
        "volume": draw(st.sampled_from(["volume", "Volume", "v"])),
    }
    order = draw(st.permutations(list(FIELDS) + draw(st.sampled_from([[], ["note"]]))))
    ts_form = draw(
        st.sampled_from(
            ["iso_t", "iso_space", "iso_z", "iso_frac", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns"]
        )
    )
    crlf = draw(st.booleans())
    return names, order, ts_form, crlf


def ts_text(seconds: int, form: str, frac_ns: int) -> str:
    if form.startswith("epoch"):
        scale = {"epoch_s": 1, "epoch_ms": 10**3, "epoch_us": 10**6, "epoch_ns": 10**9}[form]
        return str(seconds * scale)
    text = str(np.datetime64(seconds, "s"))
    if form == "iso_space":
        return text.replace("T", " ")
    if form == "iso_z":
        return text + "Z"
    if form == "iso_frac":
        return f"{text}.{frac_ns:09d}"
    return text


def render(rows, layout, frac_ns=0):
    names, order, ts_form, crlf = layout
    eol = "\r\n" if crlf else "\n"
    header = ",".join(names.get(k, k) for k in order)
    lines = [header]
    for r in rows:
        cells = {"ts": ts_text(r[0], ts_form, frac_ns), "note": "x"}
        cells.update({k: repr(v) for k, v in zip(FIELDS[1:], r[1:], strict=True)})
        lines.append(",".join(cells[k] for k in order))
    return eol.join(lines) + eol


def mapping(layout):
    names = layout[0]
    return {
        k: v
        for k, v in names.items()
        if v.lower() != k and not (k == "ts" and v.lower() in ("time", "datetime", "date", "timestamp"))
    }


def load(text, layout, **kw):
    fd, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        return load_columns(path, columns=mapping(layout), **kw)
    finally:
        os.unlink(path)


@SETTINGS
@given(rows=bar_tables(), layout=layouts(), frac_ns=st.integers(0, 999_999_999))
def test_valid_tables_round_trip_exactly(rows, layout, frac_ns):
    cols, report = load(render(rows, layout, frac_ns), layout)
    assert report.skipped == []
    extra = frac_ns if layout[2] == "iso_frac" else 0
    assert cols.ts.tolist() == [r[0] * 10**9 + extra for r in rows]
    for k, key in enumerate(FIELDS[1:], start=1):
        got = getattr(cols, key).tolist()
        want = [r[k] for r in rows]
        assert got == want  # exact: repr() round-trips
        assert [np.signbit(x) for x in got] == [np.signbit(x) for x in want]


CORRUPTIONS = ["abc", "", "1.2.3", "--1", "nan", "inf", "1e999"]


@SETTINGS
@given(rows=bar_tables(), layout=layouts(), data=st.data())
def test_one_corrupted_cell_is_named_exactly(rows, layout, data):
    names, order, _, _ = layout
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    key = data.draw(st.sampled_from(FIELDS), label="field")
    text = render(rows, layout)
    lines = text.split("\r\n" if layout[3] else "\n")
    row = dict(zip(order, lines[i + 1].split(","), strict=True))
    r = rows[i]
    if key == "ts":
        if i == 0:
            row["ts"] = data.draw(st.sampled_from(["abc", "2020-13-45", ""]), label="bad ts")
        else:  # equal to the previous row's: not increasing
            row["ts"] = dict(zip(order, lines[i].split(","), strict=True))["ts"]
    elif key == "high":
        row["high"] = data.draw(
            st.sampled_from(CORRUPTIONS + [repr(min(r[1:5]) - 1.0 - abs(min(r[1:5])))]), label="bad high"
        )
    elif key == "low":
        row["low"] = data.draw(
            st.sampled_from(CORRUPTIONS + [repr(max(r[1:5]) + 1.0 + abs(max(r[1:5])))]), label="bad low"
        )
    elif key == "volume":
        row["volume"] = data.draw(st.sampled_from(CORRUPTIONS + ["-1.0"]), label="bad volume")
    else:
        row[key] = data.draw(st.sampled_from(CORRUPTIONS + [repr(r[2] + 1.0 + abs(r[2]))]), label="bad price")
    lines[i + 1] = ",".join(row[k] for k in order)
    corrupted = ("\r\n" if layout[3] else "\n").join(lines)
    line = i + 2
    try:
        load(corrupted, layout)
    except DataError as err:
        assert (err.line, err.field) == (line, names[key]), str(err)
    else:
        raise AssertionError("corrupted input accepted")
    if len(rows) == 1:  # skipping it leaves no bar: an error saying what removed it
        with pytest.raises(DataError, match=r"no bars left: all 1 data row\(s\) were left out \(1 skipped \("):
            load(corrupted, layout, skip_bad=True)
        return
    cols, report = load(corrupted, layout, skip_bad=True)
    assert [(s.line, s.field) for s in report.skipped] == [(line, names[key])]
    assert len(cols) == len(rows) - 1
