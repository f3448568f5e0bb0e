"""A sweep's report.html in a real browser: ranked tables, a heatmap per instrument and the mean, failures marked."""

from __future__ import annotations

import csv

from engine.cli.main import main
from tests.browser import console_errors, keep_screenshot


def test_sweep_report_shows_the_ranking_and_marks_failed_cells(tmp_path, browser, capsys):
    from benchmarks.datagen import ohlcv_file

    files = [ohlcv_file(1500, seed=i + 1, instrument=name, directory=tmp_path / "data") for i, name in enumerate(["AAA", "BBB"])]
    out = tmp_path / "out"
    code = main(["sweep", "--data", *map(str, files), "--strategy", "sma_cross", "--param", "size=10",
                 "--grid", "fast=5,10,40", "--grid", "slow=20,60", "--workers", "0", "--quiet",
                 "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert code == 1  # two backtests failed (exit 1, as a failed backtest does); the report is written all the same
    capsys.readouterr()
    with open(out / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    failed = [r for r in rows if r["error"]]
    assert len(rows) == 12 and len(failed) == 2  # fast=40 > slow=20 fails, on each instrument
    browser.get((out / "report.html").as_uri())
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3 ? done() : setTimeout(wait, 50);
        wait();""")
    keep_screenshot(browser, "report-sweep")
    assert console_errors(browser) == []
    charts = browser.execute_script("return Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => e.id)")
    assert charts == ["heatmap-mean", "heatmap-0", "heatmap-1"]
    ranked = browser.execute_script("return document.querySelectorAll('#ranked tr').length")
    assert ranked == 1 + 10  # header + top 10 of the 10 that ran
    texts = browser.execute_script("return document.getElementById('heatmap-0').data[0].text")
    assert texts[2][0] == "failed" and texts[2][1] != "failed"  # rows: fast; columns: slow
    zmin, zmax = browser.execute_script("const t = document.getElementById('heatmap-mean').data[0]; return [t.zmin, t.zmax]")
    assert zmin == -zmax
    assert browser.execute_script("return document.querySelectorAll('#failed tr').length") == 1 + 2
