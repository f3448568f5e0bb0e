"""``self.value`` in a strategy is the broker's own mark: the same figure, to the last bit, on every bar."""

from __future__ import annotations

import random

import pytest

from agents.broker import BrokerAgent, BrokerSettings
from agents.model_state import ModelStateAgent
from agents.strategy_host import StrategyHost
from hub import keys as K
from hub.bus import Bus
from hub.messages import AccountQuery, AccountValue, Bar
from strategies.api import Strategy
from tests.agents.strategy_host.support import NAME, Rig


class Churn(Strategy):
    """Trades both instruments long and short on a seeded coin, and notes ``value`` after each timestamp's last bar."""

    def on_start(self):
        self.coin = random.Random(7)
        self.values = {0: self.value}  # before any bar: the starting cash
        self.sides = set()

    def on_bar(self, bar, ind):
        if bar.instrument == "Y":
            self.values[self.now] = self.value
        size = self.position().size
        if size:
            self.sides.add("long" if size > 0 else "short")
        if self.open_orders():
            return
        size = self.coin.choice((-30, -10, 0, 10, 25))
        if size > 0:
            self.buy(size)
        elif size < 0:
            self.sell(-size)


def test_value_is_the_brokers_mark_of_the_same_bar():
    bus = Bus()
    settings = BrokerSettings(cash=10_000.0, commission=0.001)
    agents = [BrokerAgent(bus, lambda: 0, settings, marks_every=1), ModelStateAgent(bus, lambda: 0),
              StrategyHost(bus, lambda: 0, Churn, initial_cash=settings.cash)]
    for agent in agents:
        agent.attach()
    for agent in agents:
        agent.start()
    marks = {}
    bus.subscribe("test", K.EQUITY_MARKS, lambda m: marks.update(zip(m.stamps, m.equity, strict=True)))
    walk, prices = random.Random(3), {"X": 50.0, "Y": 20.0}
    for ts in range(1, 301):
        for instrument in ("X", "Y"):  # one timestamp, two instruments: marked after the last
            o = prices[instrument]
            c = prices[instrument] = round(max(1.0, o + walk.uniform(-1.0, 1.0)), 2)
            bus.publish(K.BAR, Bar(ts, instrument, o, max(o, c) + 0.1, min(o, c) - 0.1, c, 1e6))
    strategy = agents[2].strategy
    assert bus.errors == 0 and len(strategy.values) == 301
    assert strategy.values == {0: 10_000.0} | {ts: marks[ts] for ts in range(1, 301)}
    assert strategy.sides == {"long", "short"}  # both kinds of holding were valued


def test_value_without_an_answer_is_an_error_not_a_stale_number():
    rig = Rig()
    with pytest.raises(RuntimeError, match="strategy: no broker answered AccountQuery on the bus"):
        _ = rig.strategy.value


def test_value_is_the_answer_meant_for_this_host():
    rig = Rig()
    queries = []

    def broker(query: AccountQuery) -> None:
        queries.append(query)
        rig.bus.publish(K.ACCOUNT_VALUE, AccountValue(query.ts, "another host", 1.0, 2.0))
        if len(queries) > 1:
            rig.bus.publish(K.ACCOUNT_VALUE, AccountValue(query.ts, query.requester, 3.0, 4.0))

    rig.bus.subscribe("broker", K.ACCOUNT_QUERY, broker)
    rig.state(7)
    with pytest.raises(RuntimeError, match="no broker answered"):
        _ = rig.strategy.value
    assert rig.strategy.value == 4.0
    assert queries == [AccountQuery(7, NAME), AccountQuery(7, NAME)]
    assert rig.host.context.answer is None  # an answer is used once: the next question needs a new one
