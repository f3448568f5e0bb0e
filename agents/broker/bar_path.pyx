# cython: language_level=3
"""The broker's per-bar hot path, compiled: order work if the instrument has any, then the mark.

A bar of an instrument with no orders costs a dict lookup, a mark of the
books and three list appends; as Python that was a tenth of a backtest.
The order work itself (submit checks, matching, fills) stays in Python in
:mod:`agents.broker.agent`, which this calls back.
"""

from agents.broker.account cimport Account, Position

from hub.fields cimport field, offset_of

from hub.messages import AccountState, Bar, EquityMarks

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

    ``process(book, bar)`` does one instrument's order work; it sets
    ``changed`` when a fill changed the books, so that an ``AccountState``
    follows this bar's mark if anyone subscribes to it (``reaches(key)``). ``flush_marks`` publishes the pending marks
    (the broker calls it before every order event and at the end).
    """

    def __init__(self, dict books, Account account, process, publish, marks_key, account_key, Py_ssize_t every,
                 reaches):
        self._reaches = reaches
        self._books = books
        self._account = account
        self._process = process
        self._publish = publish
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
        cdef long long ts
        cdef bint exact = type(bar) is Bar
        instrument = field(bar, BAR_INSTRUMENT) if exact else bar.instrument
        found = self._books.get(instrument)
        if found is None:
            self._books[instrument] = InstrumentOrders(True)
        else:
            book = <InstrumentOrders> found
            if book.submitted or book.active or book.cancels:
                self._process(book, bar)
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
        ts = field(bar, BAR_TS) if exact else bar.ts
        stamps = self._stamps
        if stamps and <long long> stamps[-1] == ts:  # several instruments at one timestamp: the last mark wins
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

    def pending(self):
        """How many marks wait to be published (tests)."""
        return len(self._stamps)
