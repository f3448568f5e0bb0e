"""The simulated broker's settings: one frozen value, built by the CLI or a test.

Defaults reproduce backtrader's default broker (``BackBroker``) except the
starting cash: backtrader starts with 10,000, this engine with 100,000 (the
CLI passes it explicitly either way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.broker.commission import Commission
from agents.broker.slippage import NO_SLIPPAGE, Slippage


@dataclass(frozen=True)
class BrokerConfig:
    """
    cash: starting cash.
    commission: fee model (default: none, like backtrader).
    slippage: price slippage (default: none).
    fill_on_close: market orders fill at the signal bar's close (backtrader's
        cheat-on-close, ``set_coc(True)``); the fill is booked when the next bar
        of the instrument arrives, so an order decided on the last bar never fills.
    check_submit: cash-check orders when they are submitted, at the signal
        price with commission (backtrader's ``checksubmit``); rejects early.
    volume_cap: max fraction of a bar's volume one order may take on that bar;
        the rest stays open for the next bars (None: no cap).
    allow_short: False rejects any order that would leave a negative position.
    marks_every: timestamps per published ``EquityMarks`` block (the daemon
        uses 1, so status and gauges follow every bar).
    """

    cash: float = 100_000.0
    commission: Commission = field(default_factory=Commission)
    slippage: Slippage = NO_SLIPPAGE
    fill_on_close: bool = False
    check_submit: bool = True
    volume_cap: float | None = None
    allow_short: bool = True
    marks_every: int = 4096

    def __post_init__(self) -> None:
        if not self.cash >= 0:
            raise ValueError(f"cash must be >= 0, got {self.cash!r}")
        if self.volume_cap is not None and not 0 < self.volume_cap <= 1:
            raise ValueError(f"volume_cap must be in (0, 1], got {self.volume_cap!r}")
        if not (isinstance(self.marks_every, int) and self.marks_every >= 1):
            raise ValueError(f"marks_every must be an integer >= 1, got {self.marks_every!r}")
