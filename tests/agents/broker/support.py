"""Test support for the broker tests: a bus with a recorder, a decision harness, backtrader's twin.

Not a test module (no ``test_`` prefix); imported by ``test_br_*.py``. The
harness drives the broker the way the engine will: publish a Bar, let a
decision function look at the bar and at the state it learned from the
broker's events, then publish its orders with ``signal_price = bar.close``.
The backtrader twin feeds the very same decision function from backtrader's
own broker state, so both engines see the same decisions only as long as
they agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.broker import BrokerAgent, BrokerSettings
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    BUY,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    AccountQuery,
    AccountState,
    AccountValue,
    Bar,
    CancelOrder,
    EquityMarks,
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)

EPOCH = dt.date(1970, 1, 1)
DAY_NS = 86_400 * 1_000_000_000


def day_ts(day: dt.date) -> int:
    return (day - EPOCH).days * DAY_NS


def ts_day(ts: int) -> dt.date:
    return EPOCH + dt.timedelta(days=ts // DAY_NS)


def bar(i: int, o: float, h: float, low: float, c: float, v: float = 1e6, instrument: str = "X") -> Bar:
    """Bar number ``i`` (one day apart, from 2020-01-01)."""
    return Bar(day_ts(dt.date(2020, 1, 1) + dt.timedelta(days=i)), instrument, o, h, low, c, v)


# ---------------------------------------------------------------- a bus with the broker and a recorder


class Recorder:
    """Collects every event the broker publishes, in order, and keeps the strategy-side view."""

    def __init__(self, bus: Bus) -> None:
        self.events: list[Any] = []
        self.fills: list[Fill] = []
        self.rejections: list[OrderRejected] = []
        self.accepted: list[OrderAccepted] = []
        self.canceled: list[OrderCanceled] = []
        self.accounts: list[AccountState] = []  # published only after bars with a fill
        self.marks: list[tuple[int, float, float]] = []  # (ts, cash, equity), one per timestamp
        self.open: dict[str, str] = {}  # order id -> kind, while not finished
        self.cash = 0.0
        self.value = 0.0
        self.size = 0.0
        self.avg_price = 0.0
        for key, handler in (
            (K.FILL, self._fill), (K.ORDER_REJECTED, self._rejected), (K.ORDER_ACCEPTED, self._accepted),
            (K.ORDER_CANCELED, self._canceled), (K.ACCOUNT, self._account), (K.EQUITY_MARKS, self._marks),
        ):
            bus.subscribe("recorder", key, handler)

    def _fill(self, m: Fill) -> None:
        self.events.append(m)
        self.fills.append(m)
        self.cash = m.cash
        if m.instrument == "X":
            self.size, self.avg_price = m.position, m.avg_price
        if m.remaining <= 0:
            self.open.pop(m.order_id, None)

    def _rejected(self, m: OrderRejected) -> None:
        self.events.append(m)
        self.rejections.append(m)
        self.open.pop(m.order_id, None)

    def _accepted(self, m: OrderAccepted) -> None:
        self.events.append(m)
        self.accepted.append(m)

    def _canceled(self, m: OrderCanceled) -> None:
        self.events.append(m)
        self.canceled.append(m)
        self.open.pop(m.order_id, None)

    def _account(self, m: AccountState) -> None:
        self.events.append(m)
        self.accounts.append(m)

    def _marks(self, m: EquityMarks) -> None:
        assert len(m.stamps) == len(m.cash) == len(m.equity) and m.ts == m.stamps[-1]
        self.marks.extend(zip(m.stamps, m.cash, m.equity, strict=True))
        self.cash = m.cash[-1]
        self.value = m.equity[-1]

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events if not isinstance(e, AccountState)]


class Rig:
    """A real Bus, the broker attached first, a recorder; helpers to publish.

    The broker publishes every mark at once (``marks_every=1``), so a test
    sees the books of the bar it just published; pass ``marks_every`` to test
    the blocks themselves.
    """

    def __init__(self, settings: BrokerSettings | None = None, marks_every: int = 1) -> None:
        self.bus = Bus()
        self.broker = BrokerAgent(self.bus, lambda: 0, settings, marks_every=marks_every)
        self.broker.attach()
        self.rec = Recorder(self.bus)
        self._seq = 0
        self.last: Bar | None = None

    def bar(self, b: Bar) -> Bar:
        self.last = b
        self.bus.publish(K.BAR, b)
        return b

    def submit(
        self, side: str, size: float, order_type: str = MARKET, limit: float | None = None,
        stop: float | None = None, instrument: str = "X", signal: float | None = None, order_id: str | None = None,
    ) -> str:
        """An order decided on the last bar published (its ts and close)."""
        assert self.last is not None
        self._seq += 1
        oid = order_id or f"o{self._seq}"
        self.rec.open[oid] = order_type
        self.bus.publish(K.SUBMIT_ORDER, SubmitOrder(
            self.last.ts, oid, "test", instrument, side, size, order_type, limit, stop,
            self.last.close if signal is None else signal,
        ))
        return oid

    def cancel(self, order_id: str) -> None:
        assert self.last is not None
        self.bus.publish(K.CANCEL_ORDER, CancelOrder(self.last.ts, order_id))


# ---------------------------------------------------------------- decisions shared by both engines


@dataclass
class View:
    """What a decision sees: the bar's index, and the books as the strategy knows them."""

    i: int
    cash: float
    value: float
    size: float
    avg_price: float
    open: list[int]  # sequence numbers of this strategy's open orders


@dataclass(frozen=True)
class Order:
    side: str
    size: float
    kind: str = MARKET
    limit: float | None = None
    stop: float | None = None


@dataclass(frozen=True)
class Cancel:
    seq: int


Decide = Callable[[Bar, View], Sequence[Order | Cancel]]


@dataclass
class Outcome:
    """One engine's run: fills as (date, side, size, price, commission), rejections, final value."""

    fills: list[tuple[dt.date, str, float, float, float]] = field(default_factory=list)
    rejections: int = 0
    canceled: int = 0
    value: float = math.nan
    cash: float = math.nan


def run_ours(bars: Sequence[Bar], decide: Decide, settings: BrokerSettings) -> Outcome:
    rig = Rig(settings)
    answers: list[AccountValue] = []
    rig.bus.subscribe("strategy", K.ACCOUNT_VALUE, answers.append)
    seq_of: dict[str, int] = {}
    oid_of: dict[int, str] = {}
    seq = 0
    for i, b in enumerate(bars):
        rig.bar(b)
        rec = rig.rec
        # What a strategy's ``value`` does: ask the broker, which answers with its own mark of this bar.
        rig.bus.publish(K.ACCOUNT_QUERY, AccountQuery(b.ts, "strategy"))
        answer = answers.pop()
        assert not answers and (answer.ts, answer.requester) == (b.ts, "strategy")
        ts, cash, equity = rec.marks[-1]
        assert ts == b.ts and same(answer.cash, cash) and same(answer.equity, equity), (i, answer, rec.marks[-1])
        view = View(i, rec.cash, rec.value, rec.size, rec.avg_price, sorted(seq_of[o] for o in rec.open))
        for act in decide(b, view):
            if isinstance(act, Cancel):
                rig.cancel(oid_of[act.seq])
                continue
            seq += 1
            oid = rig.submit(act.side, act.size, act.kind, act.limit, act.stop, order_id=f"s{seq}")
            seq_of[oid], oid_of[seq] = seq, oid
    rec = rig.rec
    out = Outcome(rejections=len(rec.rejections), canceled=len(rec.canceled), value=rec.value, cash=rec.cash)
    out.fills = [(ts_day(f.ts), f.side, f.size, f.price, f.commission) for f in rec.fills]
    return out


def same(a: float, b: float) -> bool:
    """Equal floats, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


# ---------------------------------------------------------------- backtrader's twin


def write_csv(bars: Sequence[Bar], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "open", "high", "low", "close", "volume"])
        for b in bars:
            w.writerow([ts_day(b.ts).isoformat(), repr(b.open), repr(b.high), repr(b.low), repr(b.close), repr(b.volume)])


@dataclass(frozen=True)
class BtSetup:
    """How to configure backtrader's default broker to mirror a BrokerSettings."""

    cash: float = 100_000.0
    commission: float = 0.0
    per_share: float | None = None
    minimum: float = 0.0
    slip_perc: float = 0.0
    slip_fixed: float = 0.0
    coc: bool = False
    volume_cap: float | None = None
    checksubmit: bool = True
    slip_flags: tuple[bool, bool, bool, bool] = (True, True, True, False)  # open, limit, match, out


def run_backtrader(bars: Sequence[Bar], decide: Decide, setup: BtSetup, tmp: Path) -> Outcome:
    import backtrader as bt

    path = tmp / "bars.csv"
    write_csv(bars, path)
    out = Outcome()

    class MinFee(bt.CommInfoBase):
        params = (("minimum", 0.0), ("stocklike", True), ("percabs", True))

        def _getcommission(self, size, price, pseudoexec):
            fee = super()._getcommission(size, price, pseudoexec)
            return self.p.minimum if (size and fee < self.p.minimum) else fee

    class Driver(bt.Strategy):
        def __init__(self) -> None:
            self.open: dict[int, Any] = {}
            self.seq_of_ref: dict[int, int] = {}
            self.bits_seen: dict[int, int] = {}
            self.seq = 0

        def notify_order(self, order: Any) -> None:
            # Notifications are shallow clones sharing ``executed``: an earlier
            # "Accepted" clone already sees this bar's bits, so read bits only
            # from execution notifications, which arrive in execution order.
            if order.status in (order.Partial, order.Completed):
                bits = list(order.executed.exbits)
                seen = self.bits_seen.get(order.ref, 0)
                for bit in bits[seen:]:
                    out.fills.append((
                        bt.num2date(bit.dt).date(), BUY if order.isbuy() else SELL, abs(bit.size), bit.price, bit.comm,
                    ))
                self.bits_seen[order.ref] = len(bits)
            if order.status in (order.Completed, order.Canceled, order.Margin, order.Rejected, order.Expired):
                self.open.pop(self.seq_of_ref[order.ref], None)
            if order.status in (order.Margin, order.Rejected):
                out.rejections += 1
            if order.status == order.Canceled:
                out.canceled += 1

        def next(self) -> None:
            d = self.data
            b = Bar(day_ts(bt.num2date(d.datetime[0]).date()), "X", d.open[0], d.high[0], d.low[0], d.close[0], d.volume[0])
            pos = self.position
            view = View(len(d) - 1, self.broker.getcash(), self.broker.getvalue(), pos.size, pos.price, sorted(self.open))
            for act in decide(b, view):
                if isinstance(act, Cancel):
                    self.cancel(self.open[act.seq])
                    continue
                fn = self.buy if act.side == BUY else self.sell
                if act.kind == MARKET:
                    order = fn(size=act.size)
                elif act.kind == LIMIT:
                    order = fn(size=act.size, exectype=bt.Order.Limit, price=act.limit)
                elif act.kind == STOP:
                    order = fn(size=act.size, exectype=bt.Order.Stop, price=act.stop)
                else:
                    assert act.kind == STOP_LIMIT
                    order = fn(size=act.size, exectype=bt.Order.StopLimit, price=act.stop, plimit=act.limit)
                self.seq += 1
                self.open[self.seq] = order
                self.seq_of_ref[order.ref] = self.seq

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(setup.cash)
    if setup.per_share is not None or setup.minimum:
        fixed = setup.per_share is not None
        comm = MinFee(
            commission=setup.per_share if fixed else setup.commission, minimum=setup.minimum,
            commtype=bt.CommInfoBase.COMM_FIXED if fixed else bt.CommInfoBase.COMM_PERC,
        )
        cerebro.broker.addcommissioninfo(comm)
    else:
        cerebro.broker.setcommission(commission=setup.commission)
    slip_open, slip_limit, slip_match, slip_out = setup.slip_flags
    flags = {"slip_open": slip_open, "slip_limit": slip_limit, "slip_match": slip_match, "slip_out": slip_out}
    if setup.slip_perc:
        cerebro.broker.set_slippage_perc(setup.slip_perc, **flags)
    if setup.slip_fixed:
        cerebro.broker.set_slippage_fixed(setup.slip_fixed, **flags)
    cerebro.broker.set_checksubmit(setup.checksubmit)
    if setup.coc:
        cerebro.broker.set_coc(True)
    if setup.volume_cap is not None:
        cap = setup.volume_cap
        cerebro.broker.set_filler(lambda order, price, ago: min(order.data.volume[ago] * cap, abs(order.executed.remsize)))
    data = bt.feeds.GenericCSVData(
        dataname=str(path), dtformat="%Y-%m-%d", datetime=0, open=1, high=2, low=3, close=4, volume=5,
        openinterest=-1, time=-1,
    )
    cerebro.adddata(data)
    cerebro.addstrategy(Driver)
    cerebro.run()
    out.value = cerebro.broker.getvalue()
    out.cash = cerebro.broker.getcash()
    return out


# ---------------------------------------------------------------- data


def random_walk(seed: int, n: int = 300, start: float = 50.0) -> list[Bar]:
    """Seeded daily bars on a 0.01 grid with overnight gaps, some large."""
    rng = random.Random(seed)
    bars = []
    close = start
    for i in range(n):
        gap = rng.gauss(0, 0.004) if rng.random() > 0.15 else rng.gauss(0, 0.03)
        o = round(max(1.0, close * (1 + gap)), 2)
        c = round(max(1.0, o * (1 + rng.gauss(0, 0.015))), 2)
        h = round(max(o, c) * (1 + abs(rng.gauss(0, 0.007))), 2)
        low = round(max(0.5, min(o, c) * (1 - abs(rng.gauss(0, 0.007)))), 2)
        v = float(rng.randint(1, 60) * 100)
        bars.append(bar(i, o, h, low, c, v))
        close = c
    return bars


def load_600559(path: Path) -> list[Bar]:
    """The README's preparation: forward-adjust OHLC by accumadjfactor / last factor, drop isopen false."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    last = float(rows[-1]["accumadjfactor"])
    bars = []
    for r in rows:
        if r["isopen"] != "true":
            continue
        f = float(r["accumadjfactor"])
        o, h, low, c = (float(r[k]) * f / last for k in ("openprice", "highestprice", "lowestprice", "closeprice"))
        day = dt.date.fromisoformat(r["tradedate"])
        bars.append(Bar(day_ts(day), "X", o, h, low, c, float(r["turnovervol"])))
    return bars
