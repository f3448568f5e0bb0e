"""Commission models: what a fill costs, computed the way backtrader does.

backtrader charges each leg of an execution separately (the part that closes
a position and the part that opens one), with ``abs(size) * commission *
price`` for percentage schemes and ``abs(size) * commission`` for per-share
ones. The multiplication order is kept so the floats match to the last bit.
A minimum fee is our extension (backtrader has none); it applies per leg, so
a reversal (close and re-open in one fill) pays it twice, as two tickets would.
"""

from __future__ import annotations

from dataclasses import dataclass

PERCENT = "percent"
PER_SHARE = "per_share"


@dataclass(frozen=True, slots=True)
class Commission:
    """``kind`` is ``percent`` (rate is a fraction of traded value: 0.0002 = 2 bp) or ``per_share``."""

    rate: float = 0.0
    kind: str = PERCENT
    minimum: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in (PERCENT, PER_SHARE):
            raise ValueError(f"commission kind must be {PERCENT!r} or {PER_SHARE!r}, got {self.kind!r}")
        if self.rate < 0 or self.minimum < 0:
            raise ValueError("commission rate and minimum must be >= 0")

    def fee(self, size: float, price: float) -> float:
        """Commission of one leg of ``size`` units (sign ignored) at ``price``."""
        fee = abs(size) * self.rate * price if self.kind == PERCENT else abs(size) * self.rate
        if self.minimum and size and fee < self.minimum:
            return self.minimum
        return fee
