"""Slippage: move the fill price against the trader, capped to the bar's range.

Mirrors backtrader's ``BackBroker._slip_up`` / ``_slip_down`` and the defaults
of ``set_slippage_perc`` / ``set_slippage_fixed`` (slip_open, slip_match and
slip_limit on, slip_out off). ``perc`` wins over ``fixed`` when both are set.
When the slipped price leaves the bar, it is capped at the high (buys) or low
(sells); with ``match=False`` there is no fill on that bar instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.broker.settings import BrokerSettings


@dataclass(frozen=True, slots=True)
class Slippage:
    """``perc`` 0.001 = 0.1 %; ``fixed`` in price units. Default: no slippage. Flags as in :class:`BrokerSettings`."""

    perc: float = 0.0
    fixed: float = 0.0
    slip_open: bool = True
    match: bool = True
    limit: bool = True
    out: bool = False

    @classmethod
    def from_settings(cls, s: BrokerSettings) -> Slippage:
        return cls(s.slippage_perc, s.slippage_fixed, s.slip_open, s.slip_match, s.slip_limit, s.slip_out)

    def up(self, pmax: float, price: float, doslip: bool = True, lim: bool = False) -> float | None:
        """A buy's price slipped up, capped at ``pmax``; None means no match on this bar."""
        if not doslip:
            return price
        if self.perc:
            pslip = price * (1 + self.perc)
        elif self.fixed:
            pslip = price + self.fixed
        else:
            return price
        if pslip <= pmax:
            return pslip
        if self.match or (lim and self.limit):
            return pslip if self.out else pmax
        return None

    def down(self, pmin: float, price: float, doslip: bool = True, lim: bool = False) -> float | None:
        """A sell's price slipped down, capped at ``pmin``; None means no match on this bar."""
        if not doslip:
            return price
        if self.perc:
            pslip = price * (1 - self.perc)
        elif self.fixed:
            pslip = price - self.fixed
        else:
            return price
        if pslip >= pmin:
            return pslip
        if self.match or (lim and self.limit):
            return pslip if self.out else pmin
        return None

