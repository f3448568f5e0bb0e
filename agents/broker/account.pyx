# cython: language_level=3, boundscheck=False, wraparound=False
"""Cash, positions and P&L, updated in backtrader's exact operation order.

Parity to the last bit needs the same float operations in the same order as
``BackBroker._execute`` / ``_get_value`` and ``Position.update`` (stock-like
instruments, multiplier 1, leverage 1, ``shortcash`` on):

* a fill is split into the part that ``closed`` an existing position and the
  part that ``opened`` one (a reversal has both);
* closing returns ``-closed * avg_price`` plus the realized P&L
  ``-closed * (price - avg_price)`` in one addition, then pays the leg's
  commission;
* opening pays ``opened * price`` (a short receives it), then the leg's
  commission; if cash goes below zero the opening part is refused (margin);
* equity = cash + sum over positions, where a long adds
  ``(size*close - upnl) + upnl`` and a short adds ``size*close``.

Compiled (Cython) with typed fields: the broker marks the books on every
bar, and reading a position's floats as Python attributes was most of that
cost. The float operations are the Python ones, in the same order: C
doubles round exactly as Python floats do.
"""

from hub.messages import PositionState


cdef class Position:
    """One instrument's position: signed ``size``, average ``price``, gross realized P&L, last close."""

    def __init__(self, str instrument, double size=0.0, double price=0.0, double last=0.0):
        self.instrument = instrument
        self.size = size
        self.price = price
        self.realized = 0.0
        self.last = last

    def __repr__(self):
        return f"Position({self.instrument!r}, size={self.size!r}, price={self.price!r}, last={self.last!r})"

    cpdef Position clone(self):
        return Position(self.instrument, self.size, self.price, self.last)

    def update(self, double size, double price):
        """Apply a signed ``size`` at ``price``; returns (opened, closed), both signed like ``size``."""
        cdef double opened, closed
        self.apply(size, price, &opened, &closed)
        return opened, closed

    cdef void apply(self, double size, double price, double* opened, double* closed):
        """backtrader's ``Position.update``: the average price changes only when
        the position grows, is reset to the fill price on a reversal and to 0
        when flat."""
        cdef double oldsize = self.size
        self.size += size
        if not self.size:
            opened[0], closed[0] = 0.0, size
            self.price = 0.0
        elif not oldsize:
            opened[0], closed[0] = size, 0.0
            self.price = price
        elif oldsize > 0:
            if size > 0:
                opened[0], closed[0] = size, 0.0
                self.price = (self.price * oldsize + size * price) / self.size
            elif self.size > 0:
                opened[0], closed[0] = 0.0, size
            else:
                opened[0], closed[0] = self.size, -oldsize
                self.price = price
        else:
            if size < 0:
                opened[0], closed[0] = size, 0.0
                self.price = (self.price * oldsize + size * price) / self.size
            elif self.size < 0:
                opened[0], closed[0] = 0.0, size
            else:
                opened[0], closed[0] = self.size, -oldsize
                self.price = price

    def split(self, double size):
        """(opened, closed) that ``update(size, ...)`` would return, without changing anything."""
        return self.clone().update(size, 0.0)

    def snapshot(self):
        """The position as published in AccountState."""
        return PositionState(self.instrument, self.size, self.price, self.last, self.realized)

    @property
    def unrealized(self):
        return self.size * (self.last - self.price)


cdef class Execution:
    """What one real execution did: ``size`` executed (signed), commission, P&L, and a margin refusal."""

    def __init__(self, double size, double commission, double pnl, bint refused, double cash_before, double cost):
        self.size = size
        self.commission = commission
        self.pnl = pnl
        self.refused = refused
        self.cash_before = cash_before
        self.cost = cost


cdef class Account:
    """The broker's books: cash, a position per instrument ever traded (first-trade order)."""

    def __init__(self, double cash, commission):
        self.cash = cash
        self.commission = commission
        self.positions = {}
        # Open positions only, in first-trade order (backtrader's summation
        # order; flat positions add exactly 0.0 there, so skipping them is exact).
        self.holding = []

    cpdef refresh_holding(self):
        """Call when a position opened from flat or went flat: rebuilds ``holding``."""
        self.holding = [p for p in self.positions.values() if p.size]

    def position(self, str instrument, double last):
        pos = self.positions.get(instrument)
        if pos is None:
            pos = self.positions[instrument] = Position(instrument, last=last)
        return pos

    cpdef double pseudo_execute(self, double cash, Position pos, double size, double price) except? -1.0:
        """Cash left if ``size`` filled at ``price``: backtrader's submit-time check.

        Updates ``pos`` (a clone) so later orders in the same check see it,
        even when this one fails: exactly what ``check_submitted`` does.
        """
        cdef double opened, closed
        fee = self.commission.fee
        pos.apply(size, price, &opened, &closed)
        if closed:
            cash += -closed * price + 0.0
            cash -= <double> fee(closed, price)
        if opened:
            cash -= opened * price
            cash -= <double> fee(opened, price)
        return cash

    cpdef Execution execute(self, Position pos, double size, double price):
        """Fill ``size`` (signed) at ``price``; the opening part is refused if cash would go negative."""
        cdef double opened, closed, pnl, cash, cash_before, commission, cost, openedvalue, openedcomm, closedcomm
        cdef double pprice_orig = pos.price
        cdef bint refused = False
        fee = self.commission.fee
        pos.clone().apply(size, 0.0, &opened, &closed)
        pnl = -closed * (price - pprice_orig)
        cash = self.cash
        cash_before = cash
        commission = 0.0
        if closed:
            cash += -closed * pprice_orig + pnl
            closedcomm = fee(closed, price)
            cash -= closedcomm
            commission = closedcomm
            self.cash = cash
        cost = 0.0
        if opened:
            openedvalue = opened * price
            cash -= openedvalue
            openedcomm = fee(opened, price)
            cash -= openedcomm
            if cash < 0.0:
                refused = True
                cost = openedvalue + openedcomm
                cash_before = self.cash
                opened = 0.0
            else:
                self.cash = cash
                commission = commission + openedcomm
        cdef double execsize = closed + opened
        cdef double ignored_opened, ignored_closed
        if execsize:
            pos.apply(execsize, price, &ignored_opened, &ignored_closed)
            if closed:
                pos.realized += pnl
        else:
            pnl = 0.0
        return Execution(execsize, commission, pnl if closed else 0.0, refused, cash_before, cost)

    cpdef double equity(self):
        """Cash plus positions at their last close, summed like backtrader's ``_get_value`` (:mod:`hub.marking`)."""
        cdef double value = 0.0, dvalue, dunrealized
        cdef Position p
        for p in self.holding:
            dvalue = p.size * p.last
            if dvalue > 0:
                dunrealized = p.size * (p.last - p.price)
                value += dvalue - dunrealized
                value += dunrealized
            else:
                value += dvalue
        return self.cash + value
