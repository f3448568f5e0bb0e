"""Per-agent and trading metrics from synthetic messages on a bus: the exact lines a flush sends."""

from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AccountState,
    Bar,
    EquityMarks,
    Fill,
    OrderCanceled,
    OrderRejected,
    PositionState,
    Quote,
    SubmitOrder,
    Trade,
)


def bar(ts):
    return Bar(ts=ts, instrument="ABC", open=10.0, high=10.0, low=10.0, close=10.0, volume=1.0)


class ToyPipeline:
    """A strategy that orders on even bars and a broker that fills, rejects, then cancels, in turn."""

    def __init__(self, bus):
        self.bus = bus
        self.orders = 0
        self.position = 0.0
        bus.subscribe("broker", K.BAR, self.broker_on_bar)
        bus.subscribe("strategy", K.BAR, self.strategy_on_bar)
        bus.subscribe("broker", K.SUBMIT_ORDER, self.broker_on_submit)
        bus.subscribe("flaky", K.BAR, self.flaky_on_bar)

    def broker_on_bar(self, b):
        self.bus.publish(K.EQUITY_MARKS, EquityMarks(ts=b.ts, stamps=(b.ts,), cash=(1000.0 - self.position * 10,), equity=(1000.0,)))

    def strategy_on_bar(self, b):
        if b.ts % 2 == 0:
            self.bus.publish(K.SUBMIT_ORDER, SubmitOrder(ts=b.ts, order_id=f"o{b.ts}", strategy="s", instrument="ABC",
                                                         side="SELL", size=100.0))

    def broker_on_submit(self, order):
        self.orders += 1
        kind = self.orders % 3
        if kind == 1:
            self.position -= order.size
            self.bus.publish(K.FILL, Fill(ts=order.ts, order_id=order.order_id, instrument="ABC", side="SELL",
                                          size=order.size, price=10.0, commission=0.0, remaining=0.0,
                                          position=self.position, cash=0.0))
            positions = (PositionState("ABC", self.position, 10.0, 10.0, 0.0),)
            self.bus.publish(K.ACCOUNT, AccountState(ts=order.ts, cash=1000.0 - self.position * 10, equity=1000.0,
                                                     positions=positions))
        elif kind == 2:
            self.bus.publish(K.ORDER_REJECTED, OrderRejected(order.ts, order.order_id, "ABC", "SELL", 100.0, "cash"))
        else:
            self.bus.publish(K.ORDER_CANCELED, OrderCanceled(order.ts, order.order_id, "ABC"))

    def flaky_on_bar(self, b):
        if b.ts % 3 == 0:
            raise RuntimeError("every third bar")


def counters_and_gauges(lines):
    return [line for line in lines if not line.endswith("|ms")]


def timers(lines):
    return {line.split(":")[0] for line in lines if line.endswith("|ms")}


def test_flush_sends_agent_and_trading_metrics_then_only_deltas(session_factory, udp_receiver):
    session = session_factory(prefix="engine", sample_every=1)  # time every call: every handler has a timer
    bus = Bus(monitor=session.monitor)
    ToyPipeline(bus)
    session.attach(bus)  # after the agents, as run_backtest's on_bus does; no loop here: no loop tasks
    for ts in range(1, 7):
        bus.publish(K.BAR, bar(ts))
    bus.publish(K.TRADE, Trade(ts=7, instrument="ABC", price=10.0, size=1.0))
    bus.publish(K.QUOTE, Quote(ts=8, instrument="XYZ", bid=1.0, ask=1.1))
    session.reporter.flush()
    lines = udp_receiver.lines()
    assert counters_and_gauges(lines) == [
        "engine.agent.broker.handled:9|c",  # 6 bars + 3 orders
        "engine.agent.strategy.handled:6|c",
        "engine.agent.flaky.handled:6|c",
        "engine.agent.flaky.errors:2|c",
        "engine.agent.metrics.handled:21|c",  # its own subscriptions: 8 market events, 3 orders, 3 outcomes, 6 marks, 1 account
        "engine.md.bars:6|c",
        "engine.md.ticks:2|c",
        "engine.orders.submitted:3|c",
        "engine.orders.filled:1|c",
        "engine.orders.rejected:1|c",
        "engine.orders.cancelled:1|c",
        "engine.orders.fills:1|c",
        "engine.account.equity:1000.0|g",  # the latest mark (bar 6)
        "engine.account.cash:2000.0|g",
        "engine.position.ABC:0|g",  # a short position: StatsD reads a leading '-' as a delta, so 0 first
        "engine.position.ABC:-100.0|g",
    ]
    assert timers(lines) == {
        "engine.orders.latency",
        "engine.agent.broker.handler.broker_on_bar",
        "engine.agent.broker.handler.broker_on_submit",
        "engine.agent.strategy.handler.strategy_on_bar",
        "engine.agent.flaky.handler.flaky_on_bar",
        "engine.agent.metrics.handler.on_market",
        "engine.agent.metrics.handler.on_submit",
        "engine.agent.metrics.handler.on_fill",
        "engine.agent.metrics.handler.ignore",
        "engine.agent.metrics.handler.on_marks",
        "engine.agent.metrics.handler.on_account",
    }
    assert sum(line.startswith("engine.orders.latency:") for line in lines) == 3

    bus.publish(K.BAR, bar(7))
    session.reporter.flush()
    assert counters_and_gauges(udp_receiver.lines()) == [
        "engine.agent.broker.handled:1|c",
        "engine.agent.strategy.handled:1|c",
        "engine.agent.flaky.handled:1|c",
        "engine.agent.metrics.handled:2|c",  # the bar and its mark
        "engine.md.bars:1|c",
        "engine.account.equity:1000.0|g",
        "engine.account.cash:2000.0|g",
        "engine.position.ABC:0|g",  # a short position: StatsD reads a leading '-' as a delta, so 0 first
        "engine.position.ABC:-100.0|g",
    ]


def test_inbox_depth_gauge_and_overflow_counter(session_factory, udp_receiver):
    session = session_factory(prefix="live")
    bus = Bus(monitor=session.monitor)
    bus.subscribe_queue("slow-agent", [K.FILL], lambda m: None, maxsize=2)
    session.attach(bus)
    for n in range(3):  # no consumer running: the inbox only fills
        bus.publish(K.FILL, Fill(ts=n, order_id="o", instrument="ABC", side="BUY", size=1.0, price=1.0,
                                 commission=0.0, remaining=0.0, position=1.0, cash=0.0))
    session.reporter.flush()
    lines = counters_and_gauges(udp_receiver.lines())
    assert "live.agent.slow-agent.inbox.depth:3|g" in lines
    assert "live.agent.slow-agent.inbox.overflow:1|c" in lines
    assert "live.orders.fills:3|c" in lines


def test_timer_samples_are_capped_per_flush_but_counters_stay_exact(session_factory, udp_receiver):
    session = session_factory(prefix="engine", sample_every=1)
    bus = Bus(monitor=session.monitor)
    bus.subscribe("busy", K.BAR, lambda m: None)
    session.attach(bus)
    for ts in range(500):
        bus.publish(K.BAR, bar(ts))
    session.reporter.flush()
    lines = udp_receiver.lines()
    assert "engine.md.bars:500|c" in lines and "engine.agent.busy.handled:500|c" in lines
    assert sum(line.startswith("engine.agent.busy.handler.lambda:") for line in lines) == 32
