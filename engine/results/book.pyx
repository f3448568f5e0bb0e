# cython: language_level=3, binding=False
"""The recorder's per-event work, compiled: order and fill rows, counters, and equity marks held.

Every order of a backtest passes through here three or four times
(submitted, filled or rejected, its row written; the broker's marks
before it). As Python these handlers and their helpers were seven frames an
order, a fifth of a busy backtest's order flow. The rows and figures are
unchanged: the numbers are the messages' own objects, formatted later with
``repr`` (see :mod:`engine.results.texts`).
"""

from hub.fields cimport field, offset_of

import numpy as np

from hub.messages import Fill

cdef Py_ssize_t FILL_TS = offset_of(Fill, "ts")
cdef Py_ssize_t FILL_ORDER_ID = offset_of(Fill, "order_id")
cdef Py_ssize_t FILL_INSTRUMENT = offset_of(Fill, "instrument")
cdef Py_ssize_t FILL_SIDE = offset_of(Fill, "side")
cdef Py_ssize_t FILL_SIZE = offset_of(Fill, "size")
cdef Py_ssize_t FILL_PRICE = offset_of(Fill, "price")
cdef Py_ssize_t FILL_COMMISSION = offset_of(Fill, "commission")
cdef Py_ssize_t FILL_REMAINING = offset_of(Fill, "remaining")
cdef Py_ssize_t FILL_POSITION = offset_of(Fill, "position")
cdef Py_ssize_t FILL_CASH = offset_of(Fill, "cash")


cdef class Batches:
    """Rows collected for one file and handed on a batch at a time: the unit of formatting and of a resolution."""

    cdef object _write
    cdef Py_ssize_t _batch
    cdef list _rows

    def __init__(self, write, batch=None):
        self._write = write
        self._batch = batch or 4096
        self._rows = []

    cpdef add(self, list row):
        self._rows.append(row)
        if len(self._rows) >= self._batch:
            self.flush()

    cpdef flush(self):
        rows, self._rows = self._rows, []
        if rows:
            self._write(rows)


cdef class MarkBuffer:
    """Equity marks held in growing int64/float64 arrays until a chunk is written (``flush``, by the subclass).

    The broker's blocks are small when orders are frequent (it publishes
    pending marks before every order event), so each block's values are
    written in here as it comes: ~20 instructions a mark, where Python lists
    converted once a chunk (``np.fromiter``) cost ~130.
    """

    cdef public object ts_array
    cdef public object cash_array
    cdef public object equity_array
    cdef public Py_ssize_t held  # rows held: the first ``held`` of each array
    cdef long long[::1] _ts
    cdef double[::1] _cash
    cdef double[::1] _equity
    cdef Py_ssize_t _chunk
    cdef Py_ssize_t _capacity

    def __init__(self, Py_ssize_t chunk):
        self._chunk = chunk
        self.held = 0
        self._capacity = 0
        self._grow(1024)

    cdef _grow(self, Py_ssize_t capacity):
        """Arrays of ``capacity`` rows, keeping the rows held."""
        ts = np.empty(capacity, dtype=np.int64)
        cash = np.empty(capacity, dtype=np.float64)
        equity = np.empty(capacity, dtype=np.float64)
        if self.held:
            ts[:self.held] = self.ts_array[:self.held]
            cash[:self.held] = self.cash_array[:self.held]
            equity[:self.held] = self.equity_array[:self.held]
        self.ts_array, self.cash_array, self.equity_array = ts, cash, equity
        self._ts, self._cash, self._equity = ts, cash, equity
        self._capacity = capacity

    cpdef extend(self, tuple stamps, tuple cash, tuple equity):
        """Append a block of marks; a first stamp equal to the last one held replaces that row."""
        cdef Py_ssize_t i, k = len(stamps)
        cdef Py_ssize_t n = self.held
        if not k:
            return
        if len(cash) != k or len(equity) != k:
            raise ValueError(f"a block of marks needs as many cash and equity values as stamps, got {k}, {len(cash)}, {len(equity)}")
        if n and self._ts[n - 1] == <long long> stamps[0]:  # several instruments at one timestamp: keep the last
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

    def take(self, Py_ssize_t n):
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


cdef class Book:
    """The recorder's handlers: open orders as dicts, fills and closed orders as rows, and the run's counts."""

    cdef public dict open
    cdef public dict reject_reasons
    cdef public long long fills
    cdef public long long orders_submitted
    cdef public long long orders_rejected
    cdef public long long orders_canceled
    cdef public double commission
    cdef Batches _fills
    cdef Batches _orders
    cdef MarkBuffer _equity

    def __init__(self, Batches fills, Batches orders, MarkBuffer equity):
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
        if type(msg) is not Fill:
            msg = Fill(msg.ts, msg.order_id, msg.instrument, msg.side, msg.size, msg.price, msg.commission,
                       msg.remaining, msg.position, msg.cash, msg.avg_price)
        instrument = field(msg, FILL_INSTRUMENT)
        order_id = field(msg, FILL_ORDER_ID)
        size = field(msg, FILL_SIZE)
        price = field(msg, FILL_PRICE)
        commission = field(msg, FILL_COMMISSION)
        remaining = field(msg, FILL_REMAINING)
        self.fills += 1
        self.commission += commission
        self._fills.add([
            field(msg, FILL_TS), order_id, instrument, field(msg, FILL_SIDE), size, price,
            commission, remaining, field(msg, FILL_POSITION), field(msg, FILL_CASH),
        ])
        order = self.open.get(order_id)
        if order is not None:
            order["filled"] += size
            order["value"] += size * price
            order["commission"] += commission
            if remaining <= 0:
                self.close_order(order_id, field(msg, FILL_TS), "filled", "")

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

    cpdef close_order(self, order_id, ts, str status, str reason):
        order = self.open.pop(order_id, None)
        if order is None:
            return
        self.write_order(order, status, ts, reason)

    cpdef write_order(self, dict order, str status, ts, str reason):
        filled = order["filled"]
        if status != "filled" and filled:
            status = f"partially filled, then {status}" if status != "open" else "partially filled"
        self._orders.add([
            order["order_id"], order["submitted"], order["instrument"], order["side"], order["type"],
            order["size"], order["limit_price"], order["stop_price"], status, filled,
            order["value"] / filled if filled else None, order["commission"],
            ts, reason,
        ])
