"""Parity with REAL backtrader: same bars, same decisions, identical fills, rejections and value.

Each case runs a decision function (seeded, fed only the bar and the books as
each engine reports them) through backtrader's default broker and through our
BrokerAgent on a real Bus. If the two brokers ever disagree, the decisions
diverge and the fills differ, so agreement is end to end, not per call.
Data: seeded random walks on a 0.01 grid with overnight gaps (no indicators,
so no SMA ties to worry about).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.broker import BrokerSettings
from hub.messages import BUY, LIMIT, MARKET, SELL, STOP, STOP_LIMIT, Bar
from tests.agents.broker.support import (
    BtSetup,
    Cancel,
    Decide,
    Order,
    Outcome,
    View,
    random_walk,
    run_backtrader,
    run_ours,
)

SEEDS = (1, 2, 3, 4)


class Strat:
    """Base: one RNG draw per bar, whatever the state, so both engines draw the same numbers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        self.age: dict[int, int] = {}

    def __call__(self, bar: Bar, v: View) -> list[Order | Cancel]:
        r = [self.rng.random() for _ in range(4)]
        return self.decide(bar, v, r)

    def decide(self, bar: Bar, v: View, r: list[float]) -> list[Order | Cancel]:
        raise NotImplementedError

    def expire(self, v: View, bars: int) -> list[Order | Cancel]:
        """Cancel open orders older than ``bars`` bars."""
        out: list[Order | Cancel] = []
        for seq in v.open:
            self.age[seq] = self.age.get(seq, 0) + 1
            if self.age[seq] > bars:
                out.append(Cancel(seq))
        return out


class MarketInOut(Strat):
    """Market orders: buy a fraction of cash when flat, sell all when long."""

    def decide(self, bar, v, r):
        if v.open:
            return []
        if not v.size and r[0] < 0.3:
            size = int(v.cash * (0.3 + 0.69 * r[1]) / bar.close)
            return [Order(BUY, size)] if size > 0 else []
        if v.size > 0 and r[0] < 0.25:
            return [Order(SELL, v.size)]
        return []


class AllIn(Strat):
    """Buy int(cash/close): rejected at submit with fees, or at the fill when the open gaps up."""

    def decide(self, bar, v, r):
        if v.open:
            return []
        if not v.size and r[0] < 0.4:
            return [Order(BUY, int(v.cash / bar.close))]
        if v.size > 0 and r[0] < 0.3:
            return [Order(SELL, v.size)]
        return []


class Limits(Strat):
    """Buy limit at close*0.99, sell limit at close*1.01; cancel after a few bars."""

    def decide(self, bar, v, r):
        if v.open:
            return self.expire(v, 1 + int(r[2] * 4))
        if not v.size and r[0] < 0.5:
            return [Order(BUY, int(v.cash * 0.8 / bar.close), LIMIT, limit=bar.close * 0.99)]
        if v.size > 0 and r[0] < 0.5:
            return [Order(SELL, v.size, LIMIT, limit=bar.close * 1.01)]
        return []


class Stops(Strat):
    """Buy stop above the close (breakout), sell stop below it (stop loss); cancel after a few bars."""

    def decide(self, bar, v, r):
        if v.open:
            return self.expire(v, 1 + int(r[2] * 5))
        if not v.size and r[0] < 0.5:
            return [Order(BUY, int(v.cash * 0.7 / bar.close), STOP, stop=bar.close * 1.01)]
        if v.size > 0:
            return [Order(SELL, v.size, STOP, stop=bar.close * 0.98)]
        return []


class StopLimits(Strat):
    """Stop-limit orders with the limit on either side of the stop (every trigger-bar branch)."""

    def decide(self, bar, v, r):
        if v.open:
            return self.expire(v, 1 + int(r[2] * 5))
        off = (r[1] - 0.5) * 0.02
        if not v.size and r[0] < 0.6:
            stop = bar.close * (1 + 0.01 * r[3])
            return [Order(BUY, int(v.cash * 0.6 / bar.close), STOP_LIMIT, limit=stop * (1 + off), stop=stop)]
        if v.size > 0 and r[0] < 0.6:
            stop = bar.close * (1 - 0.01 * r[3])
            return [Order(SELL, v.size, STOP_LIMIT, limit=stop * (1 + off), stop=stop)]
        return []


class ShortSeller(Strat):
    """Goes short, covers, reverses: realized P&L on the cover and both legs of a reversal."""

    def decide(self, bar, v, r):
        if v.open:
            return []
        unit = max(1, int(v.value * 0.3 / bar.close))
        if not v.size:
            if r[0] < 0.25:
                return [Order(SELL, unit)]
            if r[0] < 0.35:
                return [Order(BUY, unit)]
            return []
        if r[0] < 0.15:  # reverse
            return [Order(BUY if v.size < 0 else SELL, abs(v.size) + unit)]
        if r[0] < 0.3:  # flatten
            return [Order(BUY if v.size < 0 else SELL, abs(v.size))]
        if r[0] < 0.4:  # add
            return [Order(BUY if v.size > 0 else SELL, unit)]
        return []


class Mixed(Strat):
    """Several orders per bar of random types and sides: the submit check chains cash and position."""

    KINDS = (MARKET, LIMIT, STOP, STOP_LIMIT)

    def decide(self, bar, v, r):
        out: list[Order | Cancel] = self.expire(v, 3)
        n = int(r[0] * 3)
        for k in range(n):
            x = self.rng.random()
            kind = self.KINDS[int(x * 4)]
            side = BUY if (x * 10) % 1 < 0.55 else SELL
            size = max(1, int(v.value * 0.25 * ((x * 100) % 1) / bar.close))
            sign = 1 if side == BUY else -1
            ref = bar.close * (1 + sign * 0.005 * (k + 1))
            if kind == MARKET:
                out.append(Order(side, size))
            elif kind == LIMIT:
                out.append(Order(side, size, LIMIT, limit=bar.close * (1 - sign * 0.004 * (k + 1))))
            elif kind == STOP:
                out.append(Order(side, size, STOP, stop=ref))
            else:
                out.append(Order(side, size, STOP_LIMIT, stop=ref, limit=ref * (1 + sign * 0.003 * (k - 1))))
        return out


STRATEGIES: dict[str, Callable[[int], Decide]] = {
    "market": MarketInOut, "allin": AllIn, "limit": Limits, "stop": Stops,
    "stoplimit": StopLimits, "short": ShortSeller, "mixed": Mixed,
}

COMMISSIONS = (0.0, 0.0002, 0.001, 0.01)


def assert_same(ours: Outcome, ref: Outcome) -> None:
    assert len(ours.fills) == len(ref.fills), (ours.fills[:5], ref.fills[:5])
    for i, (a, b) in enumerate(zip(ours.fills, ref.fills, strict=True)):
        assert a[:3] == b[:3], (i, a, b)
        assert a[3] == pytest.approx(b[3], abs=1e-9), (i, a, b)
        assert a[4] == pytest.approx(b[4], abs=1e-9), (i, a, b)
    assert ours.rejections == ref.rejections
    assert ours.canceled == ref.canceled
    assert ours.value == pytest.approx(ref.value, abs=1e-6)
    assert ours.cash == pytest.approx(ref.cash, abs=1e-6)


def run_both(tmp: Path, seed: int, strat: str, settings: BrokerSettings, setup: BtSetup, n: int = 300):
    bars = random_walk(seed, n)
    ours = run_ours(bars, STRATEGIES[strat](seed), settings)
    ref = run_backtrader(bars, STRATEGIES[strat](seed), setup, tmp)
    return ours, ref


@pytest.mark.parametrize("commission", COMMISSIONS)
@pytest.mark.parametrize("strat", list(STRATEGIES))
@pytest.mark.parametrize("seed", SEEDS)
def test_parity_percent_commission(tmp_path: Path, seed: int, strat: str, commission: float) -> None:
    cash = 10_000.0 if seed % 2 else 100_000.0
    ours, ref = run_both(
        tmp_path, seed, strat, BrokerSettings(cash=cash, commission=commission),
        BtSetup(cash=cash, commission=commission),
    )
    assert ref.fills or ref.rejections, "the case must do something"
    assert_same(ours, ref)


VARIANTS = {
    "slip_perc": (BrokerSettings(commission=0.001, slippage_perc=0.002),
                  BtSetup(commission=0.001, slip_perc=0.002)),
    "slip_fixed": (BrokerSettings(commission=0.0005, slippage_fixed=0.07),
                   BtSetup(commission=0.0005, slip_fixed=0.07)),
    "slip_big": (BrokerSettings(slippage_perc=0.03), BtSetup(slip_perc=0.03)),
    "slip_no_match": (BrokerSettings(slippage_perc=0.01, slip_open=False, slip_match=False, slip_limit=False),
                      BtSetup(slip_perc=0.01, slip_flags=(False, False, False, False))),
    "slip_limit_only": (BrokerSettings(slippage_fixed=0.3, slip_match=False),
                        BtSetup(slip_fixed=0.3, slip_flags=(True, True, False, False))),
    "slip_out": (BrokerSettings(slippage_fixed=0.4, slip_out=True), BtSetup(slip_fixed=0.4, slip_flags=(True, True, True, True))),
    "fill_on_close": (BrokerSettings(commission=0.0002, fill_on_close=True),
                      BtSetup(commission=0.0002, coc=True)),
    "coc_slip": (BrokerSettings(fill_on_close=True, slippage_perc=0.01), BtSetup(coc=True, slip_perc=0.01)),
    "per_share": (BrokerSettings(commission_per_share=0.01), BtSetup(per_share=0.01)),
    "per_share_min": (BrokerSettings(commission_per_share=0.005, min_commission=1.0),
                      BtSetup(per_share=0.005, minimum=1.0)),
    "percent_min": (BrokerSettings(commission=0.0003, min_commission=5.0), BtSetup(commission=0.0003, minimum=5.0)),
    "volume_cap": (BrokerSettings(commission=0.001, volume_cap=0.25), BtSetup(commission=0.001, volume_cap=0.25)),
    "no_check_submit": (BrokerSettings(commission=0.001, check_submit=False),
                        BtSetup(commission=0.001, checksubmit=False)),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("strat", list(STRATEGIES))
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_parity_broker_variants(tmp_path: Path, seed: int, strat: str, variant: str) -> None:
    config, setup = VARIANTS[variant]
    ours, ref = run_both(tmp_path, seed, strat, config, setup)
    assert ref.fills or ref.rejections, "the case must do something"
    assert_same(ours, ref)
