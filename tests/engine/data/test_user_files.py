"""Files as users have them: tab/semicolon/pipe separators (told from the header, or given), a Yahoo-style
adjusted close, descending or unsorted files (sorted on request, stably, with a note), Parquet; and paths that
are not files (a FIFO, /dev/zero, a directory without data files) named for what they are."""

import datetime
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.data import DataError, load_columns, open_stream
from tests.paths import ROOT

ROWS = [  # date, open, high, low, close, adj close, volume
    ("2021-01-04", 10.0, 11.0, 9.5, 10.5, 5.25, 100.0),
    ("2021-01-05", 10.5, 12.0, 10.0, 11.5, 5.75, 200.0),
    ("2021-01-06", 11.5, 11.75, 10.75, 11.0, 5.5, 150.0),
    ("2021-01-07", 11.0, 12.5, 10.9, 12.25, 6.125, 120.0),
]


def write_csv(path, delimiter=",", rows=ROWS, adj=False):
    head = ["Date", "Open", "High", "Low", "Close", *(["Adj Close"] if adj else []), "Volume"]
    lines = [delimiter.join(head)]
    for d, o, h, lo, c, a, v in rows:
        lines.append(delimiter.join(str(x) for x in (d, o, h, lo, c, *([a] if adj else []), v)))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def closes(columns):
    return columns.close.tolist()


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_the_separator_is_told_from_the_header(tmp_path, delimiter):
    comma, _ = load_columns(write_csv(tmp_path / "comma.csv"))
    other, _ = load_columns(write_csv(tmp_path / "other.csv", delimiter))
    for name in ("ts", "open", "high", "low", "close", "volume"):
        assert getattr(other, name).tolist() == getattr(comma, name).tolist()
    given, _ = load_columns(write_csv(tmp_path / "given.csv", delimiter), delimiter=delimiter)
    assert closes(given) == closes(comma)


def test_a_wrong_separator_is_named_as_the_problem_not_a_column_mapping(tmp_path):
    path = write_csv(tmp_path / "semi.csv", ";")
    with pytest.raises(DataError) as err:
        load_columns(path, delimiter=",")
    assert "the header is one column: is the separator ';'? (--delimiter, or [data] delimiter" in str(err.value)
    assert "map it with" not in str(err.value)


def test_adjust_close_scales_prices_as_yfinance_does(tmp_path):
    path = write_csv(tmp_path / "SPY.csv", adj=True)
    raw, report = load_columns(path)
    assert closes(raw) == [r[4] for r in ROWS]  # not applied unless asked...
    assert report.notes == [f"{path}: its adjusted close column 'Adj Close' is not applied; "
                            '--adjust close ([data] adjust = "close") scales the prices to it']  # ... but said
    adjusted, report = load_columns(path, adjust="close")
    ratio = np.array([r[5] for r in ROWS]) / np.array([r[4] for r in ROWS])  # yfinance utils.auto_adjust
    assert adjusted.open.tolist() == (np.array([r[1] for r in ROWS]) * ratio).tolist()
    assert adjusted.high.tolist() == (np.array([r[2] for r in ROWS]) * ratio).tolist()
    assert adjusted.low.tolist() == (np.array([r[3] for r in ROWS]) * ratio).tolist()
    assert closes(adjusted) == [r[5] for r in ROWS]
    assert adjusted.volume.tolist() == [r[6] for r in ROWS] and report.notes == []
    with pytest.raises(DataError, match="--adjust close needs an adjusted close column"):
        load_columns(write_csv(tmp_path / "plain.csv"), adjust="close")


def test_adjusted_bars_keep_low_open_close_high_despite_rounding(tmp_path):
    rows = [("2021-01-04", 30.0, 41.53, 29.0, 41.53, 29.8797, 1.0)]  # close == high, and ...
    assert 41.53 * (29.8797 / 41.53) < 29.8797  # ... high * ratio rounds below adj close
    adjusted, _ = load_columns(write_csv(tmp_path / "X.csv", rows=rows, adj=True), adjust="close")
    assert adjusted.close[0] == 29.8797 and adjusted.high[0] == 29.8797  # widened by that rounding step
    assert adjusted.low[0] <= min(adjusted.open[0], adjusted.close[0])
    assert max(adjusted.open[0], adjusted.close[0]) <= adjusted.high[0]


def test_a_descending_file_is_refused_with_the_way_out_or_sorted_on_request(tmp_path):
    path = write_csv(tmp_path / "DESC.csv", rows=ROWS[::-1])
    with pytest.raises(DataError) as err:
        load_columns(path)
    assert err.value.line == 3 and err.value.reason.endswith(
        "; if the file is not in time order, --sort ([data] sort = true) sorts it")
    ascending, _ = load_columns(write_csv(tmp_path / "ASC.csv"))
    sorted_, report = load_columns(path, sort=True)
    assert sorted_.ts.tolist() == ascending.ts.tolist() and closes(sorted_) == closes(ascending)
    assert report.notes == [f"{path}: rows were newest first; sorted by time (stable)"]
    shuffled = write_csv(tmp_path / "MIXED.csv", rows=[ROWS[2], ROWS[0], ROWS[3], ROWS[1]])
    assert load_columns(shuffled, sort=True)[1].notes == [f"{shuffled}: rows were not in time order; sorted by time (stable)"]


def test_sorting_does_not_hide_a_duplicate_time(tmp_path):
    path = write_csv(tmp_path / "DUP.csv", rows=[ROWS[1], ROWS[0], ROWS[1]])
    with pytest.raises(DataError) as err:
        load_columns(path, sort=True)
    assert err.value.line == 4 and "is not after the previous row's" in err.value.reason
    kept, report = load_columns(path, sort=True, skip_bad=True)
    assert len(kept) == 2 and [(r.line, r.rule) for r in report.skipped] == [(4, "time not increasing")]


def parquet_table(ts):
    return pa.table({"timestamp": ts, "open": [r[1] for r in ROWS], "high": [r[2] for r in ROWS],
                     "low": [r[3] for r in ROWS], "close": [r[4] for r in ROWS],
                     "Adj Close": [r[5] for r in ROWS], "volume": pa.array([int(r[6]) for r in ROWS])})


DATES = [datetime.date.fromisoformat(r[0]) for r in ROWS]


@pytest.mark.parametrize("ts", [
    pa.array([datetime.datetime(d.year, d.month, d.day) for d in DATES], pa.timestamp("ns")),
    pa.array([datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.UTC) for d in DATES], pa.timestamp("ms", "UTC")),
    pa.array(DATES, pa.date32()),
    pa.array([int(datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.UTC).timestamp()) for d in DATES]),
    pa.array([d.isoformat() for d in DATES]),
], ids=["timestamp-ns", "timestamp-ms-utc", "date32", "epoch-seconds", "text"])
def test_parquet_columns_read_as_the_same_bars_as_the_csv(tmp_path, ts):
    csv_cols, _ = load_columns(write_csv(tmp_path / "SPY.csv", adj=True), adjust="close")
    path = tmp_path / "SPY.parquet"
    pq.write_table(parquet_table(ts), path, row_group_size=2)
    for fmt in ("parquet", "auto"):  # auto: told by the PAR1 magic
        cols, _ = load_columns(str(path), format=fmt, adjust="close")
        assert cols.instrument == "SPY"
        for name in ("ts", "open", "high", "low", "close", "volume"):
            assert getattr(cols, name).tolist() == getattr(csv_cols, name).tolist(), name


def test_parquet_nulls_are_bad_rows_named_by_row_number(tmp_path):
    table = parquet_table(pa.array(DATES, pa.date32())).set_column(4, "close", pa.array([10.5, None, 11.0, 12.25]))
    path = tmp_path / "NULLS.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError) as err:
        load_columns(str(path))
    assert str(err.value) == f"{path}:2: field 'close': missing value (null)"
    cols, report = load_columns(str(path), skip_bad=True)
    assert len(cols) == 3 and [(r.line, r.field, r.rule) for r in report.skipped] == [(2, "close", "missing value")]


def test_descending_parquet_is_sorted_on_request(tmp_path):
    table = parquet_table(pa.array(DATES, pa.date32())).take([3, 2, 1, 0])
    path = tmp_path / "DESC.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match="--sort"):
        load_columns(str(path))
    cols, report = load_columns(str(path), sort=True)
    assert np.all(np.diff(cols.ts) > 0) and report.notes[-1] == f"{path}: rows were newest first; sorted by time (stable)"


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_the_cli_backtests_parquet_and_separated_files_with_their_flags_and_keys(tmp_path):
    rows = [(str(datetime.date(2021, 1, 1) + datetime.timedelta(days=i)), 10 + i % 7, 11 + i % 7, 9 + i % 7,
             10.5 + i % 7, (10.5 + i % 7) / 2, 100.0) for i in range(60)]
    csv_path = write_csv(tmp_path / "ABC.csv", rows=rows, adj=True)
    (tmp_path / "semi").mkdir()
    semi = write_csv(tmp_path / "semi" / "ABC.csv", ";", rows=rows[::-1], adj=True)  # Yahoo's order: newest first
    table = pa.table({"date": [r[0] for r in rows], "open": [float(r[1]) for r in rows], "high": [float(r[2]) for r in rows],
                      "low": [float(r[3]) for r in rows], "close": [r[4] for r in rows], "adj_close": [r[5] for r in rows],
                      "volume": [r[6] for r in rows]})
    (tmp_path / "pq").mkdir()
    pq.write_table(table, tmp_path / "pq" / "ABC.parquet")
    common = ["--strategy", "sma_cross", "--param", "fast=3", "--param", "slow=8", "--param", "size=10", "--adjust", "close"]
    summaries, stderr = [], {}
    for name, data, extra in (("csv", csv_path, []), ("semi", semi, ["--delimiter", "semicolon", "--sort"]),
                              ("pq", str(tmp_path / "pq"), ["--format", "parquet"])):
        proc = run_cli("backtest", "--data", data, "--out", str(tmp_path / f"out-{name}"), *common, *extra)
        assert proc.returncode == 0, proc.stderr
        summaries.append(json.loads((tmp_path / f"out-{name}" / "summary.json").read_text()))
        stderr[name] = proc.stderr
    figures = [{k: s[k] for k in ("bars", "fills", "final_value", "orders_rejected", "first_bar")} for s in summaries]
    assert figures[0] == figures[1] == figures[2] and figures[0]["fills"] > 0
    assert summaries[1]["data_notes"] == [f"{semi}: rows were newest first; sorted by time (stable)"]
    assert f"warning: {semi}: rows were newest first; sorted by time (stable)" in stderr["semi"]
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\npaths = ["{semi}"]\ndelimiter = ";"\nadjust = "close"\nsort = true\n'
                      '[strategy]\nname = "sma_cross"\nparams = { fast = 3, slow = 8, size = 10 }\n')
    proc = run_cli("backtest", "--config", str(config), "--out", str(tmp_path / "out-toml"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out-toml" / "summary.json").read_text())["final_value"] == figures[0]["final_value"]


def test_paths_that_are_not_files_are_named_for_what_they_are(tmp_path):
    fifo = tmp_path / "feed.csv"
    os.mkfifo(fifo)
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x\n")
    (other / "sub").mkdir()
    broken = tmp_path / "broken.csv"
    broken.symlink_to(tmp_path / "gone.csv")
    expected = {
        str(fifo): "a named pipe (FIFO), not a file: the data is read more than once (header, then rows), "
                   "which a pipe cannot do; save it to a file first",
        "/dev/zero": "a character device, not a file",
        str(empty): "directory is empty: no .csv or .parquet file",
        str(other): "directory holds no .csv or .parquet file (it holds notes.txt, sub/)",
        str(broken): f"a symbolic link to {str(tmp_path / 'gone.csv')!r}, which does not exist",
        str(tmp_path / "missing.csv"): "no such file or directory",
    }
    for path, why in expected.items():
        with pytest.raises(DataError) as err:
            open_stream(path)
        assert str(err.value) == f"{path}: {why}"
        proc = run_cli("backtest", "--data", path, "--out", str(tmp_path / "out"))
        assert (proc.returncode, proc.stderr) == (2, f"error: {path}: {why}\n")
    sweep = run_cli("sweep", "--data", str(fifo), "--grid", "fast=5", "--out", str(tmp_path / "sweep"), "--quiet")
    assert (sweep.returncode, sweep.stderr) == (2, f"error: --data {fifo}: {expected[str(fifo)]}\n")


def test_the_daemon_replay_reads_files_with_the_same_data_keys(tmp_path):
    from dataclasses import replace

    from engine.backtest.driver import run_backtest
    from engine.config import Config, DaemonConfig, DataConfig, OutputConfig, StrategyConfig
    from engine.daemon.run import run_daemon

    rows = [(str(datetime.date(2021, 1, 1) + datetime.timedelta(days=i)), 10 + i % 7, 11 + i % 7, 9 + i % 7,
             10.5 + i % 7, (10.5 + i % 7) / 2, 100.0) for i in range(60)]
    path = write_csv(tmp_path / "ABC.csv", ";", rows=rows[::-1], adj=True)
    config = Config(data=DataConfig(paths=(path,), delimiter=";", adjust="close", sort=True),
                    strategy=StrategyConfig(name="sma_cross", params={"fast": 3, "slow": 8, "size": 10}),
                    daemon=DaemonConfig(replay=(path,), time_dilation="virtual"))
    backtest = run_backtest(replace(config, output=OutputConfig(dir=str(tmp_path / "backtest"), report=False)))
    result = run_daemon(replace(config, output=OutputConfig(dir=str(tmp_path / "daemon"), report=False)))
    assert result.exit_code == 0 and backtest.summary["fills"] > 0
    assert (tmp_path / "daemon" / "fills.csv").read_text() == (tmp_path / "backtest" / "fills.csv").read_text()
