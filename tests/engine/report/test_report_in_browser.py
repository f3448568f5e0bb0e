"""report.html opened in a real headless Chromium: no console error, the charts drawn, the figures those of summary.json."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from engine.backtest.driver import run_backtest
from engine.config import Config, OutputConfig
from tests.browser import console_errors, keep_screenshot


def lookup(summary: dict, key: str):
    value = summary
    for part in key.split("."):
        value = value[part]
    return value


def test_sample_report_opens_offline_and_shows_summary_json(tmp_path, browser):
    result = run_backtest(replace(Config(), output=OutputConfig(dir=str(tmp_path / "run"))))
    report = result.out_dir / "report.html"
    summary = json.loads((result.out_dir / "summary.json").read_text())
    browser.get(report.as_uri())
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5 ? done() : setTimeout(wait, 50);
        wait();""")
    path = keep_screenshot(browser, "report-sample")
    assert path.stat().st_size > 10_000
    assert console_errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # all embedded
    charts = browser.execute_script("return Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => e.id)")
    assert {"equity", "drawdown", "price-0", "monthly", "yearly"} <= set(charts)
    markers = browser.execute_script("return document.querySelectorAll('#price-0 .scatterlayer .points path.point').length")
    assert markers == 2 * summary["round_trips"]  # every entry and exit is marked
    rows = browser.execute_script("""
        return Array.from(document.querySelectorAll('#stats tr[data-key]')).map(r =>
            [r.dataset.key, r.dataset.value, r.querySelector('td').textContent]);""")
    assert len(rows) > 30
    from engine.results.table import figure_lines

    shown = {line.key: line.text for line in figure_lines(summary) if line.key}
    for key, value, cell in rows:
        expected = lookup(summary, key)
        got = json.loads(value)
        assert got == expected or (isinstance(got, float) and math.isclose(got, expected, rel_tol=0, abs_tol=0)), key
        assert cell == shown[key], key
    by_key = {key: cell for key, _, cell in rows}
    assert by_key["final_value"] == "106,285.36"
    assert by_key["trades.all.count"] == "3"


@pytest.mark.parametrize("broken", ["throw new Error('boom');"])
def test_a_console_error_is_caught(tmp_path, browser, broken):
    """The check itself: a page whose script fails is seen as failing."""
    page = tmp_path / "broken.html"
    page.write_text(f"<html><body><script>{broken}</script></body></html>")
    browser.get(page.as_uri())
    assert console_errors(browser)
