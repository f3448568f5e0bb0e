"""Puts the books a journal recovered back into a freshly built pipeline (a restart).

The broker gets its cash, positions and open orders through its public
``restore`` (the orders with what remained of each, not published: the
journal already holds them). The strategy host gets the same view and
continues the order numbering, so no order id is reused.
"""

from __future__ import annotations

from engine.daemon.recovery import Recovered
from engine.pipeline import Pipeline
from strategies.api import Position as StrategyPosition


def restore_books(pipeline: Pipeline, state: Recovered) -> None:
    if state.empty or state.cash is None:
        return
    pipeline.broker.restore(
        cash=state.cash,
        positions=state.position_states(),
        open_orders=[(o.order, o.remaining) for o in state.open_orders.values()],
    )

    host = pipeline.host
    host.restore(
        cash=state.cash,
        positions={i: StrategyPosition(size=p.size, avg_price=p.price) for i, p in state.positions.items()},
        last_prices={i: p.last for i, p in state.positions.items()},
        open_orders={oid: o.order.instrument for oid, o in state.open_orders.items() if o.order.strategy == host.name},
        order_seq=state.order_seq.get(host.name, 0),
    )
