"""The golden reference: SMA trend on 600559.csv must end at 106285.355514 (backtrader's number).

See shared/data/README.md for the preparation and the reference table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from pathlib import Path

import pytest

from agents.broker import BrokerSettings
from hub.messages import BUY, SELL, Bar
from tests.agents.broker.support import Order, View, load_600559, run_backtrader, run_ours
from tests.paths import SAMPLE_600559

DATA = SAMPLE_600559

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared data not mounted")

REFERENCE = [
    (dt.date(2020, 12, 9), BUY, 4438, 22.259158009, 19.757228649, 1194.099527),
    (dt.date(2021, 1, 14), SELL, 4438, 30.583963752, 27.146326227, 136898.584334),
    (dt.date(2021, 6, 8), BUY, 4229, 32.225054490, 27.255951088, 591.572944),
    (dt.date(2021, 6, 11), SELL, 4229, 26.85, 22.70973, 114117.513214),
    (dt.date(2021, 7, 2), BUY, 4210, 26.85, 22.6077, 1056.405514),
    (dt.date(2021, 7, 5), SELL, 4210, 25.0, 21.05, 106285.355514),
]


class SmaTrend:
    """README's strategy: SMA15 via math.fsum; buy int(cash/close) when flat above it, sell all below."""

    def __init__(self, period: int = 15) -> None:
        self.period = period
        self.window: deque[float] = deque(maxlen=period)

    def __call__(self, bar: Bar, view: View) -> list[Order]:
        self.window.append(bar.close)
        if len(self.window) < self.period or view.open:
            return []
        sma = math.fsum(self.window) / self.period
        if not view.size and bar.close > sma:
            return [Order(BUY, int(view.cash / bar.close))]
        if view.size > 0 and bar.close < sma:
            return [Order(SELL, view.size)]
        return []


CONFIG = BrokerSettings(cash=100_000.0, commission=0.0002)


def test_golden_final_value_fills_and_rejections() -> None:
    out = run_ours(load_600559(DATA), SmaTrend(), CONFIG)
    assert out.value == pytest.approx(106285.355514, abs=1e-6)
    assert out.rejections == 290
    assert len(out.fills) == 6
    for got, ref in zip(out.fills, REFERENCE, strict=True):
        assert got[:3] == ref[:3]
        assert got[3] == pytest.approx(ref[3], abs=1e-6)
        assert got[4] == pytest.approx(ref[4], abs=1e-6)
    assert math.fsum(f[4] for f in out.fills) == pytest.approx(140.526936, abs=1e-6)


def test_golden_cash_after_each_fill() -> None:
    from tests.agents.broker.support import Rig

    rig = Rig(CONFIG)
    decide = SmaTrend()
    from hub.messages import MARKET

    for i, b in enumerate(load_600559(DATA)):
        rig.bar(b)
        view = View(i, rig.rec.cash, rig.rec.value, rig.rec.size, rig.rec.avg_price, list(rig.rec.open))
        for o in decide(b, view):
            rig.submit(o.side, o.size, MARKET)
    assert [round(f.cash, 6) for f in rig.rec.fills] == [r[5] for r in REFERENCE]
    assert rig.rec.value == pytest.approx(106285.355514, abs=1e-6)


def test_golden_bit_identical_to_backtrader(tmp_path: Path) -> None:
    """The same run through real backtrader: every float equal, not just close."""
    bars = load_600559(DATA)
    ours = run_ours(bars, SmaTrend(), CONFIG)
    ref = run_backtrader(bars, SmaTrend(), _bt_setup(), tmp_path)
    assert ours.fills == ref.fills
    assert ours.rejections == ref.rejections == 290
    assert ours.value == ref.value


def _bt_setup():
    from tests.agents.broker.support import BtSetup

    return BtSetup(cash=100_000.0, commission=0.0002)
