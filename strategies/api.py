"""The strategy API: everything a strategy may touch, and nothing more.

A strategy subclasses :class:`Strategy`, declares its parameters in
``params`` and the indicators it reads in :meth:`indicators`, and reacts in
its hooks. It never sees the hub, the broker or the data files: the host
agent feeds it one event at a time, so it can only see data up to the
current event, and the same class runs unchanged in a backtest, an
accelerated replay and the live daemon.

Example::

    class Trend(Strategy):
        params = {"period": 15}

        def indicators(self):
            return {"sma": sma(self.p.period)}

        def on_bar(self, bar, ind):
            if ind.sma != ind.sma:          # NaN while warming up
                return
            if not self.position().size and bar.close > ind.sma:
                self.buy(int(self.cash / bar.close))
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any, Protocol

import msgspec

from hub.messages import Bar, Fill, IndicatorSpec, OrderCanceled, OrderRejected

__all__ = [
    "Bar", "Fill", "Indicators", "OrderCanceled", "OrderRejected", "Position", "Strategy", "StrategyContext",
    "atr", "ema", "is_ready", "rsi", "sma", "std",
]


class Position(msgspec.Struct, frozen=True, gc=False):
    """``size`` (negative when short) and ``avg_price`` of one instrument (immutable: a strategy may keep it).

    A struct, not a namespace: the host builds one on every fill, at a tenth of the cost.
    """

    size: float
    avg_price: float


class Indicators(msgspec.Struct, frozen=True, gc=False):
    """What ``on_bar`` gets as ``ind``: ``ind.<name>`` for each declared indicator (NaN while warming up).

    Immutable (a strategy may keep it). Each strategy's record is a subclass
    with its indicators as fields, in declaration order; it also unpacks,
    indexes and iterates in that order, and has ``_fields`` and ``_asdict()``,
    as a namedtuple does. A struct, not a namedtuple: the host builds one
    every bar, at a third of the cost.
    """

    def __iter__(self) -> Iterator[float]:
        return iter(msgspec.structs.astuple(self))

    def __len__(self) -> int:
        return len(self.__struct_fields__)

    def __getitem__(self, index: int | slice) -> Any:
        return msgspec.structs.astuple(self)[index]

    @property
    def _fields(self) -> tuple[str, ...]:
        return self.__struct_fields__

    def _asdict(self) -> dict[str, float]:
        return msgspec.structs.asdict(self)


class StrategyContext(Protocol):
    """What the host gives a strategy. Implemented by the strategy host agent."""

    now: int

    def submit(self, side: str, size: float, instrument: str | None, limit: float | None, stop: float | None) -> str: ...
    def cancel(self, order_id: str) -> None: ...
    def position(self, instrument: str | None) -> Position: ...
    def open_orders(self, instrument: str | None) -> list[str]: ...
    def cash(self) -> float: ...
    def value(self) -> float: ...


def _spec(kind: str, period: int, source: str) -> IndicatorSpec:
    if int(period) != period or period < 1:
        raise ValueError(f"{kind} period must be a positive integer, got {period!r}")
    return IndicatorSpec(name="", kind=kind, period=int(period), source=source)


def sma(period: int, source: str = "close") -> IndicatorSpec:
    """Simple moving average; equal to math.fsum(window) / period, bit for bit."""
    return _spec("sma", period, source)


def ema(period: int, source: str = "close") -> IndicatorSpec:
    """Exponential moving average, alpha 2/(period+1), seeded with the first SMA."""
    return _spec("ema", period, source)


def std(period: int, source: str = "close") -> IndicatorSpec:
    """Rolling population standard deviation over ``period`` values."""
    return _spec("std", period, source)


def rsi(period: int = 14, source: str = "close") -> IndicatorSpec:
    """Wilder's relative strength index (0..100)."""
    return _spec("rsi", period, source)


def atr(period: int = 14) -> IndicatorSpec:
    """Wilder's average true range (uses high, low, close)."""
    return _spec("atr", period, "hlc")


def is_ready(*values: float) -> bool:
    """True when no value is NaN (indicators are NaN until warmed up)."""
    return not any(math.isnan(v) for v in values)


class Strategy:
    """Base class for user strategies. Override the ``on_*`` hooks you need.

    ``params`` holds the defaults; overrides given by the user are coerced to
    the default's type and unknown names are refused, so a typo in
    ``--param fats=5`` is an error, not a silently ignored setting.
    """

    params: Mapping[str, Any] = {}

    def __init__(self, ctx: StrategyContext, name: str, params: Mapping[str, Any] | None = None) -> None:
        self._ctx = ctx
        self.name = name
        self.p = SimpleNamespace(**_merge_params(type(self).__name__, self.params, params or {}))

    # ------------------------------------------------------------ declarations

    def indicators(self) -> dict[str, IndicatorSpec]:
        """Name -> spec of the indicators ``on_bar`` receives as ``ind.<name>``."""
        return {}

    # ------------------------------------------------------------ hooks

    def on_start(self) -> None:
        """Called once before the first event."""

    def on_bar(self, bar: Bar, ind: Indicators) -> None:
        """Called on each bar after the broker has processed it; ``ind`` holds indicator values."""

    def on_fill(self, fill: Fill) -> None:
        """Called when one of this strategy's orders (partly) fills."""

    def on_reject(self, rejection: OrderRejected) -> None:
        """Called when the broker rejects one of this strategy's orders, with the reason."""

    def on_cancel(self, cancel: OrderCanceled) -> None:
        """Called when one of this strategy's orders is canceled."""

    def on_stop(self) -> None:
        """Called once after the last event."""

    # ------------------------------------------------------------ actions

    @property
    def now(self) -> int:
        """Timestamp (ns) of the event being handled."""
        return self._ctx.now

    def buy(self, size: float, instrument: str | None = None, limit: float | None = None, stop: float | None = None) -> str:
        """Submit a buy; market unless ``limit`` and/or ``stop`` is given. Returns the order id."""
        return self._ctx.submit("BUY", size, instrument, limit, stop)

    def sell(self, size: float, instrument: str | None = None, limit: float | None = None, stop: float | None = None) -> str:
        """Submit a sell (opens or adds to a short when flat or short)."""
        return self._ctx.submit("SELL", size, instrument, limit, stop)

    def close(self, instrument: str | None = None) -> str | None:
        """Flatten the position with a market order; None when already flat."""
        size = self._ctx.position(instrument).size
        if size > 0:
            return self._ctx.submit("SELL", size, instrument, None, None)
        if size < 0:
            return self._ctx.submit("BUY", -size, instrument, None, None)
        return None

    def cancel(self, order_id: str) -> None:
        self._ctx.cancel(order_id)

    def position(self, instrument: str | None = None) -> Position:
        """Current position of ``instrument`` (default: the bar's instrument)."""
        return self._ctx.position(instrument)

    def open_orders(self, instrument: str | None = None) -> list[str]:
        """Ids of this strategy's orders not yet filled, rejected or canceled."""
        return self._ctx.open_orders(instrument)

    @property
    def cash(self) -> float:
        return self._ctx.cash()

    @property
    def value(self) -> float:
        """Cash plus positions marked at their last price."""
        return self._ctx.value()


def _merge_params(owner: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, raw in given.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise ValueError(f"{owner} has no parameter {key!r} (known: {known})")
        merged[key] = _coerce(owner, key, raw, defaults[key])
    return merged


def _coerce(owner: str, key: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, str) or isinstance(default, str):
        return raw
    try:
        if isinstance(default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{owner} parameter {key}={raw!r} is not a valid {type(default).__name__}") from None
    return raw
