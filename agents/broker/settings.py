"""The simulated broker's settings: the flat ``[broker]`` table of a run's TOML, one frozen value.

The config loader builds it with ``msgspec.convert`` (the ``Meta`` constraints
report wrong types and ranges there); built directly (CLI flags, tests),
``__post_init__`` checks the same rules, and msgspec runs it after its own
checks too. Every message names the key: ``[broker] cash: expected a finite
number > 0, got inf``.

Defaults reproduce backtrader's default broker (``BackBroker``) except the
starting cash: backtrader starts with 10,000, this engine with 100,000. The
``slip_*`` flags default like backtrader's ``set_slippage_perc`` /
``set_slippage_fixed``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Annotated

import msgspec
from msgspec import Meta

NonNegative = Annotated[float, Meta(ge=0)]
Fraction = Annotated[float, Meta(ge=0, lt=1)]


class BrokerSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """
    cash: starting cash.
    commission: fraction of traded value charged on buys and sells (0.0002 = 2 bp).
    commission_per_share: a fixed fee per unit traded instead (set one of the two).
    min_commission: the least one execution leg pays (our extension; 0 = none).
    slippage_perc: moves fill prices against the trader by this fraction (wins over ``slippage_fixed``).
    slippage_fixed: ... or by this many price units.
    slip_open: slip fills at the bar's open too (gaps).
    slip_match: a slipped price beyond the bar's range fills at the high/low;
        False: no fill on that bar.
    slip_limit: a limit order's slipped price beyond the bar still fills
        (capped) even when ``slip_match`` is off.
    slip_out: a slipped price may lie outside the bar's range (no capping).
    fill_on_close: market orders fill at the signal bar's close (backtrader's
        cheat-on-close, ``set_coc(True)``); the fill is booked when the next bar
        of the instrument arrives, so an order decided on the last bar never fills.
    check_submit: cash-check orders when they are submitted, at the signal
        price with commission (backtrader's ``checksubmit``); rejects early.
    volume_cap: max fraction of a bar's volume one order may take on that bar;
        the rest stays open for the next bars (None: no cap).
    allow_short: False rejects any order that would leave a negative position.
    """

    cash: Annotated[float, Meta(gt=0)] = 100_000.0
    commission: Fraction = 0.0
    commission_per_share: NonNegative = 0.0
    min_commission: NonNegative = 0.0
    slippage_perc: Fraction = 0.0
    slippage_fixed: NonNegative = 0.0
    slip_open: bool = True
    slip_match: bool = True
    slip_limit: bool = True
    slip_out: bool = False
    fill_on_close: bool = False
    check_submit: bool = True
    volume_cap: Annotated[float, Meta(gt=0, le=1)] | None = None
    allow_short: bool = True

    def __post_init__(self) -> None:
        _number(self, "cash", "> 0", lambda v: v > 0)
        _number(self, "commission", "in [0, 1)", lambda v: 0 <= v < 1)
        _number(self, "commission_per_share", ">= 0", lambda v: v >= 0)
        _number(self, "min_commission", ">= 0", lambda v: v >= 0)
        _number(self, "slippage_perc", "in [0, 1)", lambda v: 0 <= v < 1)
        _number(self, "slippage_fixed", ">= 0", lambda v: v >= 0)
        if self.volume_cap is not None:
            _number(self, "volume_cap", "in (0, 1] (or absent: no cap)", lambda v: 0 < v <= 1)
        for name in ("slip_open", "slip_match", "slip_limit", "slip_out", "fill_on_close", "check_submit", "allow_short"):
            value = getattr(self, name)
            if type(value) is not bool:
                raise ValueError(f"[broker] {name}: expected true or false, got {_shown(value)}")
        if self.commission and self.commission_per_share:
            raise ValueError("[broker] commission, commission_per_share: set one of them (a fraction of value "
                             f"or a fee per share), not both; got {self.commission!r} and {self.commission_per_share!r}")


def _number(settings: BrokerSettings, name: str, rule: str, ok: Callable[[float], bool]) -> None:
    value = getattr(settings, name)
    if type(value) not in (int, float) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"[broker] {name}: expected a finite number {rule}, got {_shown(value)}")


def _shown(value: object) -> str:
    """How a bad value is quoted in a message: strings as in TOML/JSON, numbers as Python prints them."""
    return json.dumps(value) if isinstance(value, str) else repr(value)
