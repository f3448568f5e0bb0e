"""Puts the books a journal recovered back into a freshly built pipeline (a restart).

The broker gets its cash and positions (its ``account`` is public) and the
open orders, re-submitted through its own ``on_submit`` with what remained,
not published: the journal already holds them. The strategy host gets the
same view and continues the order numbering, so no order id is reused. The
host has no public restore hook; the few attributes set here are named.
"""

from __future__ import annotations

import msgspec

from agents.broker.account import Position as BrokerPosition
from engine.daemon.recovery import Recovered
from engine.pipeline import Pipeline
from strategies.api import Position as StrategyPosition


def restore_books(pipeline: Pipeline, state: Recovered) -> None:
    if state.empty or state.cash is None:
        return
    broker = pipeline.broker
    account = broker.account
    account.cash = state.cash
    account.positions = {}
    for instrument, pos in state.positions.items():
        copy = BrokerPosition(instrument, pos.size, pos.price, pos.last)
        copy.realized = pos.realized
        account.positions[instrument] = copy
    refresh = getattr(account, "refresh_holding", None)  # the broker's cache of open positions, if it has one
    if refresh is not None:
        refresh()
    for open_order in state.open_orders.values():
        broker.on_submit(msgspec.structs.replace(open_order.order, size=open_order.remaining))

    host = pipeline.host
    host.restore(
        cash=state.cash,
        positions={i: StrategyPosition(size=p.size, avg_price=p.price) for i, p in state.positions.items()},
        last_prices={i: p.last for i, p in state.positions.items()},
        open_orders={oid: o.order.instrument for oid, o in state.open_orders.items() if o.order.strategy == host.name},
        order_seq=state.order_seq.get(host.name, 0),
    )

