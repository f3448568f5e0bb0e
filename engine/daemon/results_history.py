"""A restarted daemon's results files hold the whole run: the journal's history first, then what happens now.

After a ``kill -9`` the results folder held about 80% of the journal's fills
(the recorder writes in chunks, and a killed process writes nothing more).
On a restart the recorder is given the journal's orders, fills, rejections
and cancellations before the first live event, so ``fills.csv`` and
``orders.csv`` are rebuilt from the journal and then continued: no fill is
missing. Equity marks are not journaled; ``equity.csv`` starts at the
restart.

While a daemon writes its results, the folder holds ``INCOMPLETE``; a clean
stop removes it, so a folder left by a killed process says what it is.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from engine.daemon.recovery import Recovered, read_records
from hub import keys as K
from hub.bus import Bus
from hub.messages import Fill, OrderCanceled, OrderRejected, SubmitOrder

INCOMPLETE = "INCOMPLETE"
_KEYS = {SubmitOrder: K.SUBMIT_ORDER, Fill: K.FILL, OrderRejected: K.ORDER_REJECTED, OrderCanceled: K.ORDER_CANCELED}


class TeeBus:
    """The main bus as the recorder sees it: each subscription is also made on ``history``."""

    def __init__(self, bus: Bus, history: Bus) -> None:
        self._bus = bus
        self._history = history

    def subscribe(self, agent: str, key: Any, handler: Any, first: bool = False) -> Any:
        self._history.subscribe(agent, key, handler)
        return self._bus.subscribe(agent, key, handler, first=first)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)


def replay_history(history: Bus, recovered: Recovered) -> int:
    """Publish the journal's order records on ``history`` (the recorder's only); returns how many."""
    count = 0
    for record in read_records(recovered.path, Recovered(path=recovered.path)):
        key = _KEYS.get(type(record))
        if key is not None:
            history.publish(key, record)
            count += 1
    history.unsubscribe_all()
    return count


def mark_incomplete(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INCOMPLETE).write_text(
        f"Results of a daemon still running, or killed before it could finish them (pid {os.getpid()}, started "
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}). A clean stop removes this file; after a kill, "
        "restart the daemon on the same journal to rebuild fills.csv and orders.csv from it.\n")


def mark_complete(out_dir: Path) -> None:
    (out_dir / INCOMPLETE).unlink(missing_ok=True)
