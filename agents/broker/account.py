"""Cash, positions, P&L and the mark to market, in backtrader's exact float operation order.

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
* equity = cash + the positions' values summed in first-trade order, where a
  long adds ``(size*last - upnl) + upnl`` and a short adds ``size*last``.

This module is the one place these rules are written: the broker's fills,
its submit-time check, its marks and its answer to ``AccountQuery`` use it,
and so does the daemon's journal recovery.
"""

from __future__ import annotations

from agents.broker.commission import Commission
from hub.messages import PositionState


class Position:
    """One instrument's position: signed ``size``, average ``price``, gross ``realized`` P&L, ``last`` price seen."""

    def __init__(self, instrument: str, size: float = 0.0, price: float = 0.0, last: float = 0.0,
                 realized: float = 0.0) -> None:
        self.instrument = instrument
        self.size = float(size)
        self.price = float(price)
        self.last = float(last)
        self.realized = float(realized)

    def __repr__(self) -> str:
        return (f"Position({self.instrument!r}, size={self.size!r}, price={self.price!r}, last={self.last!r}, "
                f"realized={self.realized!r})")

    @classmethod
    def from_state(cls, state: PositionState) -> Position:
        return cls(state.instrument, state.size, state.avg_price, state.last_price, state.realized_pnl)

    def state(self) -> PositionState:
        """The position as the broker reports it (``AccountState``, snapshots, status)."""
        return PositionState(self.instrument, self.size, self.price, self.last, self.realized)

    def clone(self) -> Position:
        return Position(self.instrument, self.size, self.price, self.last, self.realized)

    @property
    def unrealized(self) -> float:
        return self.size * (self.last - self.price)

    def split(self, size: float) -> tuple[float, float]:
        """(opened, closed), both signed like ``size``: the part of ``size`` that would open or grow the
        position and the part that would close it. Changes nothing (backtrader's ``pseudoupdate``)."""
        old = self.size
        new = old + size
        if not new:
            return 0.0, size
        if not old:
            return size, 0.0
        if old > 0:
            if size > 0:
                return size, 0.0
            if new > 0:
                return 0.0, size
            return new, -old
        if size < 0:
            return size, 0.0
        if new < 0:
            return 0.0, size
        return new, -old

    def closing_pnl(self, closed: float, price: float) -> float:
        """The P&L of closing ``closed`` (signed like the trade) at ``price`` against the average price."""
        return -closed * (price - self.price)

    def apply(self, size: float, price: float) -> tuple[float, float]:
        """Trade ``size`` (signed) at ``price`` (backtrader's ``Position.update``); returns (opened, closed).

        The average price changes only when the position grows (volume-weighted),
        is the fill price after a reversal or from flat, and 0 when flat. The
        closed part's P&L is added to ``realized``.
        """
        opened, closed = self.split(size)
        old = self.size
        if closed:
            self.realized += self.closing_pnl(closed, price)
        self.size = old + size
        if not self.size:
            self.price = 0.0
        elif opened and (closed or not old):  # from flat, or a reversal
            self.price = price
        elif opened:  # grows
            self.price = (self.price * old + size * price) / self.size
        return opened, closed


class Execution:
    """What one execution did: ``size`` executed (signed), ``commission`` charged, and a margin refusal
    of the opening part (``refused``, with the cash it had and what that part would have cost)."""

    def __init__(self, size: float, commission: float, refused: bool, cash_before: float, cost: float) -> None:
        self.size = size
        self.commission = commission
        self.refused = refused
        self.cash_before = cash_before
        self.cost = cost


class Account:
    """The broker's books: cash, and a position per instrument ever traded, in first-trade order."""

    def __init__(self, cash: float, commission: Commission) -> None:
        self.cash = float(cash)
        self.commission = commission
        self.positions: dict[str, Position] = {}
        # The open positions, in first-trade order: the ones the mark sums (a flat one adds exactly nothing).
        self.holding: list[Position] = []

    def position(self, instrument: str) -> Position:
        """The instrument's position; a new flat one (booked on its first execution) if it never traded."""
        pos = self.positions.get(instrument)
        return Position(instrument) if pos is None else pos

    def set_positions(self, positions: list[Position]) -> None:
        """Replace the books' positions (a restart); ``holding`` follows."""
        self.positions = {p.instrument: p for p in positions}
        self.holding = [p for p in positions if p.size]

    def cash_after_submit(self, cash: float, pos: Position, size: float, price: float) -> float:
        """``cash`` left if ``size`` filled at ``price``: backtrader's submit-time check (``check_submitted``).

        Updates ``pos`` (a clone of the real position) so that later orders of
        the same check see it, even when this one fails, as backtrader does.
        The closing part is valued at ``price`` with no P&L.
        """
        opened, closed = pos.apply(size, price)
        fee = self.commission.fee
        if closed:
            cash += -closed * price + 0.0
            cash -= fee(closed, price)
        if opened:
            cash -= opened * price
            cash -= fee(opened, price)
        return cash

    def execute(self, pos: Position, size: float, price: float) -> Execution:
        """Fill ``size`` (signed) at ``price``, the fill-time cash check included; books ``pos`` on its first fill."""
        opened, closed = pos.split(size)
        fee = self.commission.fee
        cash = self.cash
        cash_before = cash
        cost = 0.0
        commission = 0.0
        refused = False
        if closed:
            cash += -closed * pos.price + pos.closing_pnl(closed, price)
            closing_fee = fee(closed, price)
            cash -= closing_fee
            commission = closing_fee
            self.cash = cash
        if opened:
            opening_value = opened * price
            cash -= opening_value
            opening_fee = fee(opened, price)
            cash -= opening_fee
            if cash < 0.0:  # margin: the opening part is refused, a closing part stays done
                refused = True
                cost = opening_value + opening_fee
                cash_before = self.cash
                opened = 0.0
            else:
                self.cash = cash
                commission = commission + opening_fee
        executed = closed + opened
        if executed:
            was_open = pos.size != 0.0
            pos.apply(executed, price)
            if pos.instrument not in self.positions:
                self.positions[pos.instrument] = pos
            if was_open != (pos.size != 0.0):
                self.holding = [p for p in self.positions.values() if p.size]
        return Execution(executed, commission, refused, cash_before, cost)

    def equity(self) -> float:
        """Cash plus the open positions marked at their last price: backtrader's ``_get_value``."""
        value = 0.0
        for p in self.holding:
            dvalue = p.size * p.last
            if dvalue > 0:
                dunrealized = p.size * (p.last - p.price)
                value += dvalue - dunrealized
                value += dunrealized
            else:
                value += dvalue
        return self.cash + value

    def position_states(self) -> tuple[PositionState, ...]:
        """Every instrument ever traded (flat ones too), in first-trade order."""
        return tuple([p.state() for p in self.positions.values()])
