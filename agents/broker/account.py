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
"""

from __future__ import annotations

from agents.broker.commission import Commission
from hub import marking
from hub.messages import PositionState


class Position:
    """One instrument's position: signed ``size``, average ``price``, gross realized P&L, last close."""

    __slots__ = ("instrument", "size", "price", "realized", "last")

    def __init__(self, instrument: str, size: float = 0.0, price: float = 0.0, last: float = 0.0) -> None:
        self.instrument = instrument
        self.size = size
        self.price = price
        self.realized = 0.0
        self.last = last

    def clone(self) -> Position:
        return Position(self.instrument, self.size, self.price, self.last)

    def update(self, size: float, price: float) -> tuple[float, float]:
        """Apply a signed ``size`` at ``price``; returns (opened, closed), both signed like ``size``.

        backtrader's ``Position.update``: the average price changes only when
        the position grows, is reset to the fill price on a reversal and to 0
        when flat.
        """
        oldsize = self.size
        self.size += size
        if not self.size:
            opened, closed = 0, size
            self.price = 0.0
        elif not oldsize:
            opened, closed = size, 0
            self.price = price
        elif oldsize > 0:
            if size > 0:
                opened, closed = size, 0
                self.price = (self.price * oldsize + size * price) / self.size
            elif self.size > 0:
                opened, closed = 0, size
            else:
                opened, closed = self.size, -oldsize
                self.price = price
        else:
            if size < 0:
                opened, closed = size, 0
                self.price = (self.price * oldsize + size * price) / self.size
            elif self.size < 0:
                opened, closed = 0, size
            else:
                opened, closed = self.size, -oldsize
                self.price = price
        return opened, closed

    def split(self, size: float) -> tuple[float, float]:
        """(opened, closed) that ``update(size, ...)`` would return, without changing anything."""
        return self.clone().update(size, 0.0)

    def snapshot(self) -> PositionState:
        """The position as published in AccountState."""
        return PositionState(self.instrument, self.size, self.price, self.last, self.realized)

    @property
    def unrealized(self) -> float:
        return self.size * (self.last - self.price)



class Execution:
    """What one real execution did: ``size`` executed (signed), commission, P&L, and a margin refusal."""

    __slots__ = ("size", "commission", "pnl", "refused", "cash_before", "cost")

    def __init__(self, size: float, commission: float, pnl: float, refused: bool, cash_before: float, cost: float) -> None:
        self.size = size
        self.commission = commission
        self.pnl = pnl
        self.refused = refused
        self.cash_before = cash_before
        self.cost = cost


class Account:
    """The broker's books: cash, a position per instrument ever traded (first-trade order)."""

    __slots__ = ("cash", "positions", "holding", "commission")

    def __init__(self, cash: float, commission: Commission) -> None:
        self.cash = cash
        self.commission = commission
        self.positions: dict[str, Position] = {}
        # Open positions only, in first-trade order (backtrader's summation
        # order; flat positions add exactly 0.0 there, so skipping them is exact).
        self.holding: list[Position] = []

    def refresh_holding(self) -> None:
        """Call when a position opened from flat or went flat: rebuilds ``holding``."""
        self.holding = [p for p in self.positions.values() if p.size]

    def position(self, instrument: str, last: float) -> Position:
        pos = self.positions.get(instrument)
        if pos is None:
            pos = self.positions[instrument] = Position(instrument, last=last)
        return pos

    def pseudo_execute(self, cash: float, pos: Position, size: float, price: float) -> float:
        """Cash left if ``size`` filled at ``price``: backtrader's submit-time check.

        Updates ``pos`` (a clone) so later orders in the same check see it,
        even when this one fails: exactly what ``check_submitted`` does.
        """
        fee = self.commission.fee
        opened, closed = pos.update(size, price)
        if closed:
            cash += -closed * price + 0
            cash -= fee(closed, price)
        if opened:
            cash -= opened * price
            cash -= fee(opened, price)
        return cash

    def execute(self, pos: Position, size: float, price: float) -> Execution:
        """Fill ``size`` (signed) at ``price``; the opening part is refused if cash would go negative."""
        fee = self.commission.fee
        pprice_orig = pos.price
        opened, closed = pos.split(size)
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
        refused = False
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
                opened = 0
            else:
                self.cash = cash
                commission = commission + openedcomm
        execsize = closed + opened
        if execsize:
            pos.update(execsize, price)
            if closed:
                pos.realized += pnl
        else:
            pnl = 0.0
        return Execution(execsize, commission, pnl if closed else 0.0, refused, cash_before, cost)

    def equity(self) -> float:
        """Cash plus positions at their last close, summed like backtrader's ``_get_value``."""
        return marking.equity(self.cash, [(p.size, p.price, p.last) for p in self.holding])
