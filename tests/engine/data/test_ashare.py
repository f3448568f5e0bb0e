"""The A-share export reader on the real shared file and on small synthetic variants."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import DataError, load_columns, open_stream
from tests.paths import SAMPLE_600559

REAL = str(SAMPLE_600559)
HEADER = '"ticker","secid","tradedate","openprice","highestprice","lowestprice","closeprice","turnovervol","turnovervalue","accumadjfactor","isopen"\n'


def day(text: str) -> int:
    return int(np.datetime64(text, "ns").astype(np.int64))


def row(date, o, h, lo, c, vol="100.0", factor="2.0", isopen="true", ticker="000001"):
    return (
        f'"{ticker}","{ticker}.SZ","{date}","{o}","{h}","{lo}","{c}","{vol}","1.0E3","{factor}","{isopen}"\n'
    )


@pytest.fixture(scope="module")
def real():
    return load_columns(REAL)


def test_real_file_all_608_rows_are_trading_days(real):
    cols, report = real
    assert len(cols) == 608  # the file has no isopen=false row
    assert report.filtered == [] and report.skipped == []
    assert cols.instrument == "600559"
    assert cols.ts[0] == day("2019-01-02") and cols.ts[-1] == day("2021-07-05")


def test_real_file_forward_adjustment(real):
    cols, _ = real
    i = int(np.flatnonzero(cols.ts == day("2020-12-09"))[0])
    assert abs(cols.open[i] - 22.259158009) < 1e-9
    assert cols.open[i] == (22.38 * 6.895915) / 6.933352  # exactly that order, float64
    # the last row keeps its raw prices: "25.0","26.09","24.71","25.61"
    assert (cols.open[-1], cols.high[-1], cols.low[-1], cols.close[-1]) == (25.0, 26.09, 24.71, 25.61)


def test_real_file_volume_is_not_adjusted_and_parses_noise_and_exponents(real):
    cols, _ = real
    volume = dict(zip(cols.ts.tolist(), cols.volume.tolist(), strict=True))
    assert volume[day("2021-07-01")] == 58772326.0  # "5.8772326E7"
    assert volume[day("2019-01-29")] == 7675046.000000001  # float noise kept exactly
    assert volume[day("2019-01-31")] == 1.4378054999999998e7
    assert volume[day("2019-01-02")] == 3696283.0


def test_real_file_streams_as_bars():
    bars = list(open_stream([REAL]))
    assert len(bars) == 608
    assert bars[-1].instrument == "600559" and bars[-1].open == 25.0
    assert all(a.ts < b.ts for a, b in zip(bars, bars[1:], strict=False))


def test_isopen_false_rows_are_filtered_and_reported(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(
        HEADER
        + row("2020-01-02", "10.0", "11.0", "9.0", "10.5")
        + row("2020-01-03", "", "", "", "", isopen="false")  # closed day: price columns are not checked
        + row("2020-01-06", "10.5", "12.0", "10.0", "11.0", factor="4.0")
    )
    cols, report = load_columns(str(p))
    assert cols.instrument == "000001"  # leading zeros kept
    assert cols.ts.tolist() == [day("2020-01-02"), day("2020-01-06")]
    assert cols.open.tolist() == [(10.0 * 2.0) / 4.0, 10.5]
    assert cols.volume.tolist() == [100.0, 100.0]
    assert [(r.line, r.field) for r in report.filtered] == [(3, "isopen")]
    assert report.skipped == []


def test_last_row_factor_is_used_even_when_that_row_is_closed(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(
        HEADER
        + row("2020-01-02", "10.0", "11.0", "9.0", "10.5")
        + row("2020-01-03", "0", "0", "0", "0", factor="8.0", isopen="false")
    )
    cols, _ = load_columns(str(p))
    assert cols.open.tolist() == [(10.0 * 2.0) / 8.0]


@pytest.mark.parametrize(
    ("bad_row", "field", "reason"),
    [
        (row("2020-01-03", "10.0", "11.0", "9.0", "10.5", isopen="maybe"), "isopen", "isopen must be"),
        (
            row("2020-01-03", "10.0", "11.0", "9.0", "10.5", factor="0"),
            "accumadjfactor",
            "must be finite and > 0",
        ),
        (
            row("2020-01-03", "10.0", "11.0", "9.0", "10.5", ticker="000002"),
            "ticker",
            "differs from the file's first",
        ),
        (row("2020-01-03", "10.0", "9.0", "9.5", "9.6"), "highestprice", "high 9.0 is below"),
        (row("2020-01-02", "10.0", "11.0", "9.0", "10.5"), "tradedate", "is not after"),
        (row("2020-01-03", "x", "11.0", "9.0", "10.5"), "openprice", "cannot parse 'x' as a number"),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path, bad_row, field, reason):
    p = tmp_path / "a.csv"
    p.write_text(
        HEADER
        + row("2020-01-02", "10.0", "11.0", "9.0", "10.5")
        + bad_row
        + row("2020-01-06", "10.0", "11.0", "9.0", "10.5")
    )
    with pytest.raises(DataError) as err:
        load_columns(str(p))
    assert (err.value.line, err.value.field) == (3, field)
    assert reason in str(err.value)
    cols, report = load_columns(str(p), skip_bad=True)
    assert len(cols) == 2
    assert [(r.line, r.field) for r in report.skipped] == [(3, field)]


def test_missing_ashare_column_is_named(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(
        HEADER.replace('"accumadjfactor",', "") + '"1","1.SZ","2020-01-02","1","1","1","1","1","1","true"\n'
    )
    # without the factor column the header is not recognised as A-share: forcing the format names it
    with pytest.raises(DataError) as err:
        load_columns(str(p), format="ashare")
    assert (err.value.line, err.value.field) == (1, "accumadjfactor")
