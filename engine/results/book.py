"""The recorder's per-event work: order and fill rows, counters, and equity marks held.

Every order of a backtest passes through here three or four times
(submitted, filled or rejected, its row written; the broker's marks
before it). The numbers are the messages' own objects, formatted later with
``repr`` (see :mod:`engine.results.texts`). Plain Python, compiled by Cython
when a C compiler is there (``book.pxd``).
"""

import numpy as np


class Batches:
    """Rows collected for one file and handed on a batch at a time: the unit of formatting and of a resolution."""

    def __init__(self, write, batch=None):
        self._write = write
        self._batch = batch or 4096
        self._rows = []

    def add(self, row):
        self._rows.append(row)
        if len(self._rows) >= self._batch:
            self.flush()

    def flush(self):
        rows, self._rows = self._rows, []
        if rows:
            self._write(rows)


class MarkBuffer:
    """Equity marks held in growing int64/float64 arrays until a chunk is written (``flush``, by the subclass).

    The broker's blocks are small when orders are frequent (it publishes
    pending marks before every order event), so each block's values are
    written in here as it comes, instead of lists converted once a chunk.
    """

    def __init__(self, chunk):
        self._chunk = chunk
        self.held = 0  # rows held: the first ``held`` of each array
        self._capacity = 0
        self._grow(1024)

    def _grow(self, capacity):
        """Arrays of ``capacity`` rows, keeping the rows held."""
        ts = np.empty(capacity, dtype=np.int64)
        cash = np.empty(capacity, dtype=np.float64)
        equity = np.empty(capacity, dtype=np.float64)
        if self.held:
            ts[:self.held] = self.ts_array[:self.held]
            cash[:self.held] = self.cash_array[:self.held]
            equity[:self.held] = self.equity_array[:self.held]
        self.ts_array, self.cash_array, self.equity_array = ts, cash, equity
        self._ts, self._cash, self._equity = ts, cash, equity  # the same arrays, typed for the compiled loop
        self._capacity = capacity

    def extend(self, stamps, cash, equity):
        """Append a block of marks; a first stamp equal to the last one held replaces that row."""
        k = len(stamps)
        n = self.held
        if not k:
            return
        if len(cash) != k or len(equity) != k:
            raise ValueError(f"a block of marks needs as many cash and equity values as stamps, got {k}, {len(cash)}, {len(equity)}")
        if n and self._ts[n - 1] == stamps[0]:  # several instruments at one timestamp: keep the last
            n -= 1
        if n + k > self._capacity:
            self.held = n
            self._grow(max(2 * self._capacity, n + k))
        for i in range(k):
            self._ts[n + i] = stamps[i]
            self._cash[n + i] = cash[i]
            self._equity[n + i] = equity[i]
        self.held = n + k
        if self.held > self._chunk:
            self.flush(keep_last=True)

    def take(self, n):
        """The first ``n`` rows held, as new arrays (ts, cash, equity); the rest move to the front."""
        if not 0 <= n <= self.held:
            raise ValueError(f"{self.held} marks are held, asked for {n}")
        ts = self.ts_array[:n].copy()
        cash = self.cash_array[:n].copy()
        equity = self.equity_array[:n].copy()
        rest = self.held - n
        if rest:
            self.ts_array[:rest] = self.ts_array[n:self.held].copy()
            self.cash_array[:rest] = self.cash_array[n:self.held].copy()
            self.equity_array[:rest] = self.equity_array[n:self.held].copy()
        self.held = rest
        return ts, cash, equity

    def flush(self, keep_last=False):  # pragma: no cover - the subclass writes
        raise NotImplementedError


class Book:
    """The recorder's handlers: open orders as dicts, fills and closed orders as rows, and the run's counts."""

    def __init__(self, fills, orders, equity):
        self._fills = fills
        self._orders = orders
        self._equity = equity
        self.open = {}
        self.reject_reasons = {}
        self.fills = self.orders_submitted = self.orders_rejected = self.orders_canceled = 0
        self.commission = 0.0

    def on_submit(self, msg):
        self.orders_submitted += 1
        self.open[msg.order_id] = {
            "order_id": msg.order_id, "submitted": msg.ts, "instrument": msg.instrument, "side": msg.side,
            "type": msg.order_type, "size": msg.size, "limit_price": msg.limit_price, "stop_price": msg.stop_price,
            "filled": 0.0, "value": 0.0, "commission": 0.0,
        }

    def on_fill(self, msg):
        instrument = msg.instrument
        order_id = msg.order_id
        size = msg.size
        price = msg.price
        commission = msg.commission
        remaining = msg.remaining
        self.fills += 1
        self.commission += commission
        self._fills.add([
            msg.ts, order_id, instrument, msg.side, size, price, commission, remaining, msg.position, msg.cash,
        ])
        order = self.open.get(order_id)
        if order is not None:
            order["filled"] += size
            order["value"] += size * price
            order["commission"] += commission
            if remaining <= 0:
                self.close_order(order_id, msg.ts, "filled", "")

    def on_reject(self, msg):
        self.orders_rejected += 1
        kind = msg.reason.split(":", 1)[0]
        self.reject_reasons[kind] = self.reject_reasons.get(kind, 0) + 1
        self.close_order(msg.order_id, msg.ts, "rejected", msg.reason)

    def on_cancel(self, msg):
        self.orders_canceled += 1
        self.close_order(msg.order_id, msg.ts, "canceled", msg.reason)

    def on_marks(self, msg):
        self._equity.extend(msg.stamps, msg.cash, msg.equity)

    def close_order(self, order_id, ts, status, reason):
        order = self.open.pop(order_id, None)
        if order is None:
            return
        self.write_order(order, status, ts, reason)

    def write_order(self, order, status, ts, reason):
        filled = order["filled"]
        if status != "filled" and filled:
            status = f"partially filled, then {status}" if status != "open" else "partially filled"
        self._orders.add([
            order["order_id"], order["submitted"], order["instrument"], order["side"], order["type"],
            order["size"], order["limit_price"], order["stop_price"], status, filled,
            order["value"] / filled if filled else None, order["commission"],
            ts, reason,
        ])
