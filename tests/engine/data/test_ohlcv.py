"""The generic OHLCV reader: column mapping, timestamp forms, epoch units, CSV details."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import DataError, load_columns, open_stream
from engine.data.timestamps import epoch_unit


def write(tmp_path, text, name="x.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(p)


def ns(text: str) -> int:
    return int(np.datetime64(text, "ns").astype(np.int64))


def test_autodetects_common_names_case_insensitively_and_ignores_extra_columns(tmp_path):
    path = write(
        tmp_path,
        "Extra,Volume,CLOSE,Low,High,Open,DateTime\nq,5,1.5,1,2,1.25,2020-01-02T09:30:00\n",
        "EURUSD.csv",
    )
    cols, _ = load_columns(path)
    assert cols.instrument == "EURUSD"
    assert cols.ts.tolist() == [ns("2020-01-02T09:30:00")]
    assert (cols.open[0], cols.high[0], cols.low[0], cols.close[0], cols.volume[0]) == (
        1.25,
        2.0,
        1.0,
        1.5,
        5.0,
    )


def test_explicit_mapping_and_instrument_override(tmp_path):
    path = write(tmp_path, "When,O,H,L,C,V,time\n2020-01-02,1,2,0.5,1.5,10,ignored\n")
    cols, _ = load_columns(
        path,
        columns={"ts": "When", "open": "O", "high": "H", "low": "L", "close": "C", "volume": "V"},
        instrument="ES",
    )
    assert cols.instrument == "ES" and cols.ts.tolist() == [ns("2020-01-02")]


def test_ambiguous_and_missing_columns_are_header_errors(tmp_path):
    path = write(tmp_path, "date,time,open,high,low,close,volume\n2020-01-02,09:30,1,1,1,1,1\n")
    with pytest.raises(DataError, match="ambiguous") as err:
        load_columns(path)
    assert err.value.line == 1
    path = write(tmp_path, "date,open,high,low,volume\n2020-01-02,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        load_columns(path)
    assert (err.value.line, err.value.field) == (1, "close")
    with pytest.raises(DataError) as err:
        load_columns(path, columns={"close": "Close"})
    assert (err.value.line, err.value.field) == (1, "Close")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-02", "2020-01-02T00:00:00"),
        ("2020-01-02T09:30:00", "2020-01-02T09:30:00"),
        ("2020-01-02 09:30:00", "2020-01-02T09:30:00"),
        ("2020-01-02T09:30:00Z", "2020-01-02T09:30:00"),
        ("2020-01-02T09:30", "2020-01-02T09:30:00"),
        ("2020-01-02T09:30:00.123456789", "2020-01-02T09:30:00.123456789"),
        ("2020-01-02T09:30:00+08:00", "2020-01-02T01:30:00"),
        ("2020-01-02T09:30:00-0130", "2020-01-02T11:00:00"),
        ("2020-02-29T23:59:59", "2020-02-29T23:59:59"),
        ("1970-01-01", "1970-01-01T00:00:00"),
        ("1969-12-31T23:59:59", "1969-12-31T23:59:59"),
    ],
)
def test_iso_forms(tmp_path, text, expected):
    path = write(tmp_path, f"timestamp,open,high,low,close,volume\n{text},1,1,1,1,1\n")
    assert load_columns(path)[0].ts.tolist() == [ns(expected)]


@pytest.mark.parametrize(
    "bad",
    ["2019-02-29", "2020-13-01", "2020-01-02T24:00:00", "2020-01-02X09:30:00", "02/01/2020", "2300-01-01"],
)
def test_impossible_dates_are_errors(tmp_path, bad):
    path = write(tmp_path, f"timestamp,open,high,low,close,volume\n2000-01-01,1,1,1,1,1\n{bad},1,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        load_columns(path)
    assert (err.value.line, err.value.field) == (3, "timestamp")


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        (["1577836800", "1577836860"], 10**9),  # seconds
        (["1577836800000", "1577836860000"], 10**6),  # milliseconds
        (["1577836800000000", "1577836860000000"], 10**3),  # microseconds
        (["1577836800000000000", "1577836860000000000"], 1),  # nanoseconds
        (["0", "60"], 10**9),  # small values are seconds
    ],
)
def test_epoch_unit_is_inferred_from_magnitude(tmp_path, values, unit):
    path = write(tmp_path, "time,open,high,low,close,volume\n" + "".join(f"{v},1,1,1,1,1\n" for v in values))
    assert load_columns(path)[0].ts.tolist() == [int(v) * unit for v in values]


def test_epoch_unit_rule_boundaries():
    assert [
        epoch_unit(v) for v in (0, 10**11 - 1, 10**11, 10**14 - 1, 10**14, 10**17 - 1, 10**17, -(10**12))
    ] == ["s", "s", "ms", "ms", "us", "us", "ns", "ms"]


def test_epoch_fractions_are_exact_and_mixed_units_refused(tmp_path):
    path = write(
        tmp_path, "time,open,high,low,close,volume\n1577836800.5,1,1,1,1,1\n1577836800.123456789,1,1,1,1,1\n"
    )
    with pytest.raises(DataError) as err:  # second row is earlier: exact fractions compared
        load_columns(path)
    assert err.value.line == 3
    path = write(tmp_path, "time,open,high,low,close,volume\n1577836800.25,1,1,1,1,1\n1577836801,1,1,1,1,1\n")
    assert load_columns(path)[0].ts.tolist() == [1577836800_250000000, 1577836801_000000000]
    path = write(tmp_path, "time,open,high,low,close,volume\n1577836800,1,1,1,1,1\n1577836860000,1,1,1,1,1\n")
    with pytest.raises(DataError, match="magnitude means ms") as err:
        load_columns(path)
    assert (err.value.line, err.value.field) == (3, "time")


def test_compact_yyyymmdd_is_not_taken_for_epoch_seconds(tmp_path):
    path = write(tmp_path, "date,open,high,low,close,volume\n20200102,1,1,1,1,1\n")
    with pytest.raises(DataError, match="YYYYMMDD") as err:
        load_columns(path)
    assert err.value.line == 2


def test_csv_details_crlf_bom_quotes_blank_lines_and_no_final_newline(tmp_path):
    text = '\ufefftimestamp,open,high,low,close,volume\r\n"2020-01-02",1,2,0.5,1.5,10\r\n\r\n2020-01-03," 1.5 ",2,1,1.5,1e3'
    cols, _ = load_columns(write(tmp_path, text))
    assert cols.ts.tolist() == [ns("2020-01-02"), ns("2020-01-03")]
    assert cols.open.tolist() == [1.0, 1.5] and cols.volume.tolist() == [10.0, 1000.0]
    # line numbers stay physical across the blank line
    text = "timestamp,open,high,low,close,volume\n2020-01-02,1,1,1,1,1\n\n\n2020-01-03,1,1,1,abc,1\n"
    with pytest.raises(DataError) as err:
        load_columns(write(tmp_path, text))
    assert (err.value.line, err.value.field) == (5, "close")


def test_quoted_field_with_comma_goes_through_the_csv_module(tmp_path):
    text = (
        'timestamp,open,high,low,close,volume,note\n2020-01-02,1,1,1,1,1,"a, b"\n2020-01-03,1,1,1,1,"1,5",x\n'
    )
    with pytest.raises(DataError) as err:
        load_columns(write(tmp_path, text))
    assert (err.value.line, err.value.field) == (3, "volume")
    assert "cannot parse '1,5'" in str(err.value)


def test_numbers_parse_like_python_float(tmp_path):
    texts = [
        "0.1",
        "-0.0",
        "+2.5",
        "1e-3",
        "1E+3",
        "123456789012345678",
        "0.30000000000000004",
        ".5",
        "5.",
        "00012.50",
    ]
    # in the volume column: the market-data rules allow it zero (and -0.0), prices must be positive
    body = "".join(f"2020-01-{i + 1:02d},1,1,1,1,{t}\n" for i, t in enumerate(texts))
    cols, _ = load_columns(write(tmp_path, "date,open,high,low,close,volume\n" + body))
    assert cols.volume.tolist() == [float(t) for t in texts]
    assert np.signbit(cols.volume[1])


def test_stream_yields_bars_with_the_file_stem(tmp_path):
    path = write(tmp_path, "date,open,high,low,close,volume\n2020-01-02,1,2,0.5,1.5,10\n", "600000.csv")
    (bar,) = list(open_stream(path))
    assert (bar.ts, bar.instrument, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        ns("2020-01-02"),
        "600000",
        1.0,
        2.0,
        0.5,
        1.5,
        10.0,
    )
