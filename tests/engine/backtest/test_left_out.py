"""Every row a run leaves out is reported: skipped.csv lists each (file, line, field, value, rule, reason),
the summary counts them per rule, and a file left with no bar at all is an error naming what removed its rows."""

import csv
import json
import subprocess
import sys

from tests.paths import ROOT

HEADER = "date,open,high,low,close,volume\n"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "engine", "backtest", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_every_skipped_row_is_in_skipped_csv_and_counted_per_rule(tmp_path):
    data = tmp_path / "ABC.csv"
    rows = [f"2021-01-{d:02d},10,11,9,10.5,100" for d in range(1, 29)]
    rows[3] = "2021-01-04,10,11,9,abc,100"  # line 5
    rows[7] = "2021-01-08,10,11,9,10.5,-3"  # line 9
    rows[10] = "2021-01-11,10,11,9,10.5"  # line 12: a field short
    rows[12] = "2021-01-13,10,11,9,xyz,100"  # line 14
    rows[20] = "2021-01-20,10,11,9,10.5,100"  # line 22: same date as the row before
    data.write_text(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    proc = run_cli("--data", str(data), "--skip-bad", "--out", str(out), "--strategy", "sma_cross",
                   "--param", "fast=2", "--param", "slow=3")
    assert proc.returncode == 0, proc.stderr
    with open(out / "skipped.csv") as handle:
        listed = list(csv.reader(handle))
    assert listed == [
        ["file", "line", "field", "value", "rule", "reason"],
        [str(data), "5", "close", "abc", "unparsable number", "cannot parse 'abc' as a number"],
        [str(data), "9", "volume", "-3", "negative", "volume -3.0 is negative"],
        [str(data), "12", "volume", "", "malformed row", "row has 5 fields, the header has 6"],
        [str(data), "14", "close", "xyz", "unparsable number", "cannot parse 'xyz' as a number"],
        [str(data), "22", "date", "2021-01-20", "time not increasing",
         "timestamp 2021-01-20T00:00:00.000000000 is not after the previous row's 2021-01-20T00:00:00.000000000"],
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_skipped"] == 5 and summary["bars"] == 23
    assert summary["skipped_reasons"] == {"malformed row": 1, "negative": 1, "time not increasing": 1,
                                          "unparsable number": 2}
    assert (f"5 bad row(s) skipped (1 malformed row, 1 negative, 1 time not increasing, "
            f"2 unparsable number): each is listed in {out}/skipped.csv") in proc.stdout


def test_a_file_whose_rows_are_all_skipped_is_an_error_not_a_run_of_zero_bars(tmp_path):
    data = tmp_path / "ALLBAD.csv"
    data.write_text(HEADER + "2021-01-01,1,2,0.5,x,10\n2021-01-02,1,2,0.5,y,10\n2021-01-03,1,2,0.5,1,-1\n")
    proc = run_cli("--data", str(data), "--skip-bad", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr == (f"error: {data}: no bars left: all 3 data row(s) were left out "
                           "(1 skipped (negative), 2 skipped (unparsable number))\n")
    assert not (tmp_path / "out").exists()


def test_an_ashare_file_of_non_trading_days_only_says_the_isopen_filter_removed_them(tmp_path):
    head = ('"ticker","secid","tradedate","openprice","highestprice","lowestprice","closeprice","turnovervol",'
            '"turnovervalue","accumadjfactor","isopen"\n')
    rows = "".join(f'"600559","600559.SH","2019-01-0{d}","0","0","0","0","0","0","5.1","false"\n' for d in (5, 6))
    data = tmp_path / "closed.csv"
    data.write_text(head + rows)
    proc = run_cli("--data", str(data), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr == f"error: {data}: no bars left: all 2 data row(s) were left out (2 isopen false)\n"


def test_filtered_rows_are_listed_and_counted_too(tmp_path):
    head = ('"ticker","secid","tradedate","openprice","highestprice","lowestprice","closeprice","turnovervol",'
            '"turnovervalue","accumadjfactor","isopen"\n')
    rows = ['"1","1.SH","2019-01-02","10","11","9","10.5","100","1000","1.0","true"',
            '"1","1.SH","2019-01-03","0","0","0","0","0","0","1.0","false"',
            '"1","1.SH","2019-01-04","10","11","9","10.5","100","1000","1.0","true"']
    data = tmp_path / "one.csv"
    data.write_text(head + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    proc = run_cli("--data", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["rows_filtered"], summary["filtered_reasons"], summary["bars"]) == (1, {"isopen false": 1}, 2)
    assert (out / "skipped.csv").read_text().splitlines()[1] == (
        f"{data},3,isopen,false,isopen false,isopen is false: not a trading day")
