"""Each kind of bad input stops the run naming file, line and field; skip_bad lists it instead."""

from __future__ import annotations

import pytest

from engine.data import DataError, load_columns, open_stream

HEADER = "timestamp,open,high,low,close,volume\n"
GOOD1 = "2020-01-02T09:30:00,10,11,9,10.5,100\n"
GOOD3 = "2020-01-02T09:32:00,10,11,9,10.5,100\n"


def write(tmp_path, text, name="x.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


CASES = [
    ("2020-01-02T09:31:00,10,11,9,abc,100", "close", "cannot parse 'abc' as a number"),
    ("2020-01-02T09:31:00,10,11,9,,100", "close", "cannot parse '' as a number"),
    ("2020-01-02T09:31:00,10,11,9,1_0,100", "close", "cannot parse '1_0'"),
    ("2020-01-02T09:30:00,10,11,9,10.5,100", "timestamp", "is not after"),  # equal counts as not increasing
    ("2020-01-02T09:29:00,10,11,9,10.5,100", "timestamp", "is not after"),
    ("yesterday,10,11,9,10.5,100", "timestamp", "cannot parse 'yesterday'"),
    ("2020-01-02T09:31:00,10,8,9,8.5,100", "high", "high 8.0 is below"),  # high < low (and < open, close)
    ("2020-01-02T09:31:00,10,11,12,10.5,100", "low", "low 12.0 is above"),
    ("2020-01-02T09:31:00,12,11,9,10.5,100", "open", "open 12.0 is above high 11.0"),
    ("2020-01-02T09:31:00,10,11,9,8.5,100", "close", "close 8.5 is below low 9.0"),
    ("2020-01-02T09:31:00,10,11,9,10.5,-1", "volume", "negative"),
    ("2020-01-02T09:31:00,nan,11,9,10.5,100", "open", "not a finite number"),
    ("2020-01-02T09:31:00,10,inf,9,10.5,100", "high", "not a finite number"),
    ("2020-01-02T09:31:00,10,11,9,10.5", "volume", "row has 5 fields, the header has 6"),
    ("2020-01-02T09:31:00,10,11,9,10.5,100,7", None, "row has 7 fields"),
    ('2020-01-02T09:31:00,10,11,9,"10.5,100', None, "unterminated quote"),
]


@pytest.mark.parametrize(("bad", "field", "reason"), CASES)
def test_bad_row_raises_with_line_and_field(tmp_path, bad, field, reason):
    path = write(tmp_path, HEADER + GOOD1 + bad + "\n" + GOOD3)
    with pytest.raises(DataError) as err:
        load_columns(path)
    assert (err.value.path, err.value.line, err.value.field) == (path, 3, field)
    assert reason in str(err.value)
    assert str(err.value).startswith(f"{path}:3: ")


@pytest.mark.parametrize(("bad", "field", "reason"), CASES)
def test_skip_bad_reports_the_row_and_keeps_the_rest(tmp_path, bad, field, reason):
    path = write(tmp_path, HEADER + GOOD1 + bad + "\n" + GOOD3)
    stream = open_stream([path], skip_bad=True)
    bars = list(stream)
    assert [b.ts for b in bars] == [1577957400000000000, 1577957520000000000]
    (skipped,) = stream.report.skipped
    assert (skipped.path, skipped.line, skipped.field) == (path, 3, field)
    assert reason in skipped.reason
    assert "1 row(s) skipped" in stream.report.summary()


def test_message_format(tmp_path):
    path = write(tmp_path, HEADER + GOOD1 + "2020-01-02T09:31:00,10,11,9,abc,100\n")
    with pytest.raises(DataError, match=r"x\.csv:3: field 'close': cannot parse 'abc' as a number$"):
        load_columns(path)


def test_a_bad_timestamp_costs_one_row_not_all_later_ones(tmp_path):
    rows = [
        "2020-01-02T09:30:00",
        "2020-01-02T09:35:00",
        "2020-01-02T09:31:00",
        "2020-01-02T09:32:00",
        "2020-01-02T09:36:00",
    ]
    path = write(tmp_path, HEADER + "".join(f"{t},10,11,9,10,1\n" for t in rows))
    cols, report = load_columns(path, skip_bad=True)
    # after a row jumps ahead, later rows are compared with it: 09:31 and 09:32 are skipped
    assert [(r.line, r.field) for r in report.skipped] == [(4, "timestamp"), (5, "timestamp")]
    assert len(cols) == 3


def test_several_bad_rows_are_all_listed_in_order(tmp_path):
    body = (
        GOOD1
        + "2020-01-02T09:31:00,x,11,9,10,1\n"
        + "2020-01-02T09:32:00,10,11,9,10,y\n"
        + "2020-01-02T09:33:00,10,11,9,10,1\n"
    )
    cols, report = load_columns(write(tmp_path, HEADER + body), skip_bad=True)
    assert [(r.line, r.field) for r in report.skipped] == [(3, "open"), (4, "volume")]
    assert len(cols) == 2


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [("", 1, "empty file"), (HEADER, 2, "no data rows"), (HEADER + "\n\n", 2, "no data rows")],
)
def test_empty_files_raise_even_with_skip_bad(tmp_path, text, line, message):
    path = write(tmp_path, text)
    for skip in (False, True):
        with pytest.raises(DataError, match=message) as err:
            load_columns(path, skip_bad=skip)
        assert err.value.line == line


def test_missing_paths(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        open_stream([str(tmp_path / "nope.csv")])
    with pytest.raises(DataError, match="matches no file"):
        open_stream([str(tmp_path / "*.csv")])


def test_a_corrupt_first_timestamp_does_not_decide_the_files_format(tmp_path):
    # Found by hypothesis: an ISO-shaped but impossible first value made a whole epoch file "ISO",
    # so with skip_bad every later row was reported too. The first value that parses decides.
    path = tmp_path / "X.csv"
    path.write_text("timestamp,open,high,low,close,volume\n2020-13-45,1,1,1,1,1\n100000002,1,1,1,1,1\n100000003,1,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        load_columns(str(path))
    assert (err.value.line, err.value.field) == (2, "timestamp")
    columns, report = load_columns(str(path), skip_bad=True)
    assert [(s.line, s.field) for s in report.skipped] == [(2, "timestamp")]
    assert columns.ts.tolist() == [100000002 * 10**9, 100000003 * 10**9]
