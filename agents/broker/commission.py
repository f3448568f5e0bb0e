"""Commission: what one execution leg costs, computed the way backtrader does.

backtrader charges each leg of an execution separately (the part that closes
a position and the part that opens one), with ``abs(size) * commission *
price`` for percentage schemes and ``abs(size) * commission`` for per-share
ones. The multiplication order is kept so the floats match to the last bit.
A minimum fee is our extension (backtrader has none); it applies per leg, so
a reversal (close and re-open in one fill) pays it twice, as two tickets would.
"""

from __future__ import annotations

from agents.broker.settings import BrokerSettings


class Commission:
    """``rate`` is a fraction of traded value (``per_share`` False) or a fee per unit (``per_share`` True)."""

    __slots__ = ("minimum", "per_share", "rate")

    def __init__(self, rate: float = 0.0, per_share: bool = False, minimum: float = 0.0) -> None:
        self.rate = rate
        self.per_share = per_share
        self.minimum = minimum

    @classmethod
    def from_settings(cls, settings: BrokerSettings) -> Commission:
        if settings.commission_per_share:
            return cls(settings.commission_per_share, True, settings.min_commission)
        return cls(settings.commission, False, settings.min_commission)

    def fee(self, size: float, price: float) -> float:
        """Commission of one leg of ``size`` units (sign ignored) at ``price``."""
        fee = abs(size) * self.rate if self.per_share else abs(size) * self.rate * price
        if self.minimum and size and fee < self.minimum:
            return self.minimum
        return fee
