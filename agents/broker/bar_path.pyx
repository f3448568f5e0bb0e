# cython: language_level=3, binding=False
"""The broker's per-bar hot path, compiled: one bar's order work if the instrument has any, then the mark.

A bar of an instrument with no orders costs a dict lookup, a mark of the
books and three list appends; as Python that was a tenth of a backtest, and
the order work (cancels, submit-time checks, matching, fills) another tenth.
The steps, their order and every float operation are those of
:mod:`agents.broker.agent`'s docstring (backtrader's ``BackBroker``); fill
prices come from :mod:`agents.broker.matching`.
"""

from agents.broker.account cimport Account, Execution, Position
from agents.broker.orders cimport OpenOrder
from hub.fields cimport field, offset_of

from agents.broker import matching
from hub import keys as K
from hub.messages import (
    LIMIT, MARKET, STOP, AccountState, Bar, EquityMarks, Fill, OrderAccepted, OrderCanceled, OrderRejected,
)

cdef object FILL = K.FILL
cdef object ACCEPTED = K.ORDER_ACCEPTED
cdef object REJECTED = K.ORDER_REJECTED
cdef object CANCELED = K.ORDER_CANCELED

cdef Py_ssize_t BAR_TS = offset_of(Bar, "ts")
cdef Py_ssize_t BAR_INSTRUMENT = offset_of(Bar, "instrument")
cdef Py_ssize_t BAR_CLOSE = offset_of(Bar, "close")


cdef class InstrumentOrders:
    """One instrument's orders: ``submitted`` await the submit check, ``active`` may fill.

    Both lists keep arrival order, which is the order backtrader checks and
    executes them in. ``cancels`` holds ids whose cancel takes effect at the
    start of the instrument's next bar.
    """

    def __init__(self, bint seen):
        self.seen = seen
        self.submitted = []
        self.active = []
        self.cancels = []


cdef class BarPath:
    """``on_bar(bar)``: the broker's bar handler. Marks are buffered and published as :class:`EquityMarks`.

    Order work on a bar sets ``changed`` when a fill changed the books, so
    that an ``AccountState`` follows this bar's mark if anyone subscribes to
    it (``reaches(key)``). ``flush_marks`` publishes the pending marks
    (before every order event, and at the end).
    """

    def __init__(self, dict books, Account account, dict open_orders, settings, slippage, publish, reaches,
                 marks_key, account_key, Py_ssize_t every):
        self._books = books
        self._account = account
        self._open = open_orders
        self._allow_short = settings.allow_short
        self._check_submit = settings.check_submit
        self._fill_on_close = settings.fill_on_close
        self._slip = slippage
        self._cap = settings.volume_cap
        self._publish = publish
        self._reaches = reaches
        self._marks_key = marks_key
        self._account_key = account_key
        self._stamps = []
        self._cashes = []
        self._equities = []
        self._every = every
        self.changed = False

    def on_bar(self, bar):
        cdef Account account = self._account
        cdef InstrumentOrders book
        cdef Position pos
        cdef double cash, equity
        cdef bint exact = type(bar) is Bar
        instrument = field(bar, BAR_INSTRUMENT) if exact else bar.instrument
        found = self._books.get(instrument)
        if found is None:
            self._books[instrument] = InstrumentOrders(True)
        else:
            book = <InstrumentOrders> found
            if book.submitted or book.active or book.cancels:
                self.process(book, bar)
        holding = account.holding
        cash = account.cash
        if not holding:
            equity = cash
        else:
            found = account.positions.get(instrument)
            if found is not None:
                pos = <Position> found
                if pos.size:
                    pos.last = field(bar, BAR_CLOSE) if exact else bar.close
            equity = account.equity()
        ts = field(bar, BAR_TS) if exact else int(bar.ts)  # the bar's own int: no conversion, no new object
        stamps = self._stamps
        if stamps and stamps[-1] == ts:  # several instruments at one timestamp: the last mark wins
            self._cashes[-1] = cash
            self._equities[-1] = equity
        else:
            stamps.append(ts)
            self._cashes.append(cash)
            self._equities.append(equity)
            if len(stamps) >= self._every:
                self.flush_marks()
        if self.changed:
            self.changed = False
            if not self._reaches(self._account_key):  # nobody listens (a backtest): build nothing
                return
            self.flush_marks()
            states = tuple([(<Position> p).snapshot() for p in holding])
            self._publish(self._account_key, AccountState(ts, cash, equity, states))

    cpdef flush_marks(self):
        """Publish the pending marks as one :class:`EquityMarks` (nothing if none are pending)."""
        stamps = self._stamps
        if not stamps:
            return
        marks = EquityMarks(stamps[-1], tuple(stamps), tuple(self._cashes), tuple(self._equities))
        del stamps[:]
        del self._cashes[:]
        del self._equities[:]
        self._publish(self._marks_key, marks)

    def on_submit(self, msg):
        """The broker's SubmitOrder handler: the order waits for its instrument's next bar (see the agent)."""
        cdef InstrumentOrders book
        order = OpenOrder(msg)
        found = self._books.get(order.instrument)
        if found is None:
            book = InstrumentOrders(False)
            self._books[order.instrument] = book
        else:
            book = <InstrumentOrders> found
        if order.invalid is None:
            if order.order_id in self._open:
                order.invalid = f"invalid order: duplicate order id {order.order_id!r}"
            else:
                self._open[order.order_id] = order
        book.submitted.append(order)

    # ------------------------------------------------------------ one bar's order work

    cdef process(self, InstrumentOrders book, bar):
        book.seen = True
        cdef long long ts = bar.ts
        if book.cancels:
            self._cancel(book, ts)
        if book.submitted:
            self._check_submitted(book, bar, ts)
        if book.active:
            self._execute_active(book, bar, ts)

    cdef _cancel(self, InstrumentOrders book, long long ts):
        ids = book.cancels
        book.cancels = []
        for order_id in ids:
            found = self._open.pop(order_id, None)
            if found is None:
                continue
            order = <OpenOrder> found
            if order in book.active:
                book.active.remove(order)
            else:
                book.submitted.remove(order)
            self.emit(CANCELED, OrderCanceled(ts, order_id, order.instrument))

    cdef _check_submitted(self, InstrumentOrders book, bar, long long ts):
        cdef OpenOrder order
        cdef Position clone = None
        cdef Account account = self._account
        cdef double cash, before, signed
        waiting = book.submitted
        ready = [o for o in waiting if (<OpenOrder> o).ts < ts]
        if not ready:
            return
        book.submitted = [o for o in waiting if (<OpenOrder> o).ts >= ts] if len(ready) < len(waiting) else []
        cash = account.cash
        for found in ready:
            order = <OpenOrder> found
            if order.invalid is not None:
                self.reject(ts, order, order.invalid)
                continue
            if clone is None:
                real = account.positions.get(order.instrument)
                clone = (<Position> real).clone() if real is not None else Position(order.instrument)
            signed = order.remaining if order.is_buy else -order.remaining
            if not self._allow_short and clone.size + signed < 0:
                self.reject(ts, order, f"short selling disabled: position {clone.size:g} {order.side} {order.size:g}")
                continue
            if self._check_submit:
                before = cash
                cash = account.pseudo_execute(cash, clone, signed, order.created_price)
                if not cash >= 0.0:
                    self.reject(ts, order, f"margin: cash {before:.2f} < cost {before - cash:.2f} at submit")
                    continue
            book.active.append(order)
            if self._reaches(ACCEPTED):  # nobody listens in a backtest: build nothing
                self.emit(ACCEPTED, OrderAccepted(ts, order.order_id, order.instrument))

    cdef _execute_active(self, InstrumentOrders book, bar, long long ts):
        cdef OpenOrder order
        cdef Position pos
        cdef Execution ex
        cdef Account account = self._account
        cdef double size, signed
        cdef long long fill_ts
        cdef bint is_buy, was_open
        slip = self._slip
        cap = self._cap
        popen, high, low, close = bar.open, bar.high, bar.low, bar.close
        orders = book.active
        keep = []
        book.active = keep
        for found in orders:
            order = <OpenOrder> found
            kind = order.order_type
            is_buy = order.is_buy
            fill_ts = ts
            if kind == MARKET:
                if self._fill_on_close:
                    price = matching.market(is_buy, order.signal_price, high, low, slip)
                    fill_ts = order.ts
                else:
                    price = matching.market(is_buy, popen, high, low, slip)
            elif kind == LIMIT:
                price = matching.limit(is_buy, order.limit_price, popen, high, low, slip)
            elif kind == STOP:
                price = matching.stop(is_buy, order.stop_price, popen, high, low, slip)
            else:
                price, order.triggered = matching.stop_limit(
                    is_buy, order.triggered, order.stop_price, order.limit_price, popen, high, low, close, slip)
            if price is None:
                keep.append(order)
                continue
            size = order.remaining
            if cap is not None:
                size = min(size, bar.volume * cap)
                if not size > 0:
                    keep.append(order)
                    continue
            found = account.positions.get(order.instrument)
            if found is None:  # booked on its first execution: the first-trade order every mirror sees in fills
                pos = Position(order.instrument, last=close)
            else:
                pos = <Position> found
            signed = size if is_buy else -size
            if not self._allow_short and pos.size + signed < 0:
                self.reject(ts, order, f"short selling disabled at fill: position {pos.size:g} SELL {size:g}")
                continue
            was_open = pos.size != 0.0
            ex = account.execute(pos, signed, price)
            if ex.size:
                account.positions.setdefault(order.instrument, pos)
            if was_open != (pos.size != 0.0):
                account.refresh_holding()
            if ex.size:
                self.changed = True
                order.remaining -= abs(ex.size)
                self.emit(FILL, Fill(
                    fill_ts, order.order_id, order.instrument, order.side, abs(ex.size), price,
                    ex.commission, order.remaining, pos.size, account.cash, pos.price,
                ))
            if ex.refused:
                self.reject(ts, order, f"margin: cash {ex.cash_before:.2f} < cost {ex.cost:.2f} at fill")
            elif order.remaining > 0:
                keep.append(order)
            else:
                self._forget(order)
        if book.active is not keep:  # orders accepted re-entrantly while publishing
            keep.extend(book.active)
            book.active = keep

    # ------------------------------------------------------------ helpers

    cpdef emit(self, key, msg):
        """Publish an order event after the pending marks (see the broker's docstring)."""
        self.flush_marks()
        self._publish(key, msg)

    cpdef reject(self, long long ts, OpenOrder order, str reason):
        self._forget(order)
        self.emit(REJECTED, OrderRejected(ts, order.order_id, order.instrument, order.side, order.size, reason))

    cdef _forget(self, OpenOrder order):
        if self._open.get(order.order_id) is order:
            del self._open[order.order_id]
