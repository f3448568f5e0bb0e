"""engine.backtest(...) as a notebook calls it: DataFrames or paths in, pandas tables out, inside a running loop too."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import engine
from engine.data import load_columns
from strategies.sma_trend import SmaTrend
from tests.paths import ROOT, SAMPLE_600559


def sample_frame() -> pd.DataFrame:
    columns, _ = load_columns(str(SAMPLE_600559), format="ashare")
    return pd.DataFrame({"Open": columns.open, "High": columns.high, "Low": columns.low, "Close": columns.close,
                         "Volume": columns.volume}, index=pd.to_datetime(columns.ts, unit="ns"))


def test_a_dataframe_gives_the_bundled_sample_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = engine.backtest(strategy="sma_trend", data={"600559": sample_frame()}, params={"period": 15},
                             cash=100000, commission=0.0002)
    assert round(result.summary["final_value"], 2) == 106285.36
    assert result.summary["fills"] == 6 and result.summary["orders_rejected"] == 290
    stats = result.stats
    assert isinstance(stats, pd.Series) and stats["final_value"] == result.summary["final_value"]
    assert stats["trades.all.count"] == 3 and stats["annualisation.periods_per_year"] == 252
    assert len(result.trades) == 3 and result.trades["entry_time"].dtype.kind == "M"
    assert len(result.equity) == 608 and len(result.fills) == 6 and len(result.orders) == 296
    assert "<iframe" in result.plot()._repr_html_()
    again = engine.backtest(strategy=SmaTrend, data={"600559": sample_frame()}, params={"period": 15},
                            cash=100000, commission=0.0002)  # a class, the same frame: the same run
    assert again.summary["run_id"] != result.summary["run_id"]  # its name differs (module:Class), so does its id
    assert again.summary["final_value"] == result.summary["final_value"]


def test_inside_a_running_event_loop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def cell():  # what Jupyter does: the cell's code runs while the kernel's loop is running
        return engine.backtest("sma_trend", str(SAMPLE_600559), {"period": 15}, cash=100000, commission=0.0002,
                               data_format="ashare", report=False)

    result = asyncio.run(cell())
    assert round(result.summary["final_value"], 2) == 106285.36
    assert not (result.out_dir / "report.html").exists()


def test_bad_inputs_say_what_is_wrong(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = sample_frame()
    with pytest.raises(ValueError, match="lacks column"):
        engine.backtest("sma_trend", frame.drop(columns=["Volume"]))
    with pytest.raises(ValueError, match="DatetimeIndex"):
        engine.backtest("sma_trend", frame.reset_index(drop=True))
    with pytest.raises(TypeError, match="unknown broker setting"):
        engine.backtest("sma_trend", frame, cash=1.0, comission=0.1)


def test_import_engine_stays_light():
    code = "import sys, engine; print(sorted(m for m in ('pandas', 'plotly', 'engine.backtest') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_readme_notebook_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    section = text.split("## From a notebook", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    assert isinstance(result.stats, pd.Series) and result.summary["bars"] == 500
    assert np.isfinite(result.stats["sharpe"])
