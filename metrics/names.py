"""Every metric name the engine sends. Dashboards and alerts depend on them: change none lightly.

Names are relative: the StatsD client prepends the configured prefix
(default ``engine``), so ``md.bars`` arrives as ``engine.md.bars``. Agent,
handler and instrument names become one name part each (see :func:`part`).
The README's "Runtime health" table lists these names; keep the two in step.
"""

from __future__ import annotations

import re

LOOP_LAG = "loop.lag"  # timer, ms: aiodebug's monitor_loop_lag
SLOW_CALLBACK = "loop.slow_callback"  # timer, ms: an asyncio callback past the threshold (stdlib loop)

BARS = "md.bars"  # counter
TICKS = "md.ticks"  # counter: trades and quotes

ORDERS_SUBMITTED = "orders.submitted"  # counter
ORDERS_FILLED = "orders.filled"  # counter: orders completely filled
ORDERS_REJECTED = "orders.rejected"  # counter
ORDERS_CANCELLED = "orders.cancelled"  # counter
FILLS = "orders.fills"  # counter: executions, partial ones included
ORDER_LATENCY = "orders.latency"  # timer, ms: market event in -> the order it caused published

EQUITY = "account.equity"  # gauge
CASH = "account.cash"  # gauge
HALTED = "daemon.halted"  # gauge: 1 once the daemon halted order flow (its journal failed)

_NOT_A_PART = re.compile(r"[^A-Za-z0-9_-]+")


def part(text: str) -> str:
    """One StatsD name part: characters other than letters, digits, ``_`` and ``-`` become ``_``."""
    return _NOT_A_PART.sub("_", text).strip("_") or "unnamed"


def handler_part(qualname: str) -> str:
    """``StrategyHost._on_state`` -> ``on_state``: the method name is what a reader looks for."""
    return part(qualname.rsplit(".", 1)[-1].lstrip("_"))


def position(instrument: str) -> str:
    return f"position.{part(instrument)}"  # gauge: signed size held


def agent_handled(agent: str) -> str:
    return f"agent.{part(agent)}.handled"  # counter


def agent_errors(agent: str) -> str:
    return f"agent.{part(agent)}.errors"  # counter


def handler_time(agent: str, handler: str) -> str:
    return f"agent.{part(agent)}.handler.{handler_part(handler)}"  # timer, ms, sampled


def slow_handler(agent: str, handler: str) -> str:
    return f"agent.{part(agent)}.slow.{handler_part(handler)}"  # timer, ms: calls past the threshold


def inbox_depth(agent: str) -> str:
    return f"agent.{part(agent)}.inbox.depth"  # gauge


def inbox_conflated(agent: str) -> str:
    return f"agent.{part(agent)}.inbox.conflated"  # counter


def inbox_overflow(agent: str) -> str:
    return f"agent.{part(agent)}.inbox.overflow"  # counter
