"""Incremental indicators, O(1) a bar, numerically equal to backtrader 1.9.78.123's.

Each indicator reads the :class:`Source` objects of one instrument (already
pushed with the current bar) and returns its value from ``update()``: NaN
until it has as many bars as backtrader needs for its first value. An
indicator built after bars already flowed behaves as if its data began with
the next bar (``ready`` counts from its creation).

=====  ==============================  ==================================================
kind   backtrader                      first value after
=====  ==============================  ==================================================
sma    SMA: fsum(window)/period        period bars (bit-exact, see exact_sum)
ema    EMA: ExponentialSmoothing       period bars; seed = SMA, then prev*(1-a) + x*a, a=2/(p+1)
std    StdDev (safepow=True)           period bars; abs(SMA(x**2) - SMA(x)**2) ** 0.5
rsi    RSI_Safe (= RSI, no 0-divide)   period+1 bars; Wilder smoothing (a=1/p) of up/down moves
atr    ATR                             period+1 bars; Wilder smoothing of the true range
=====  ==============================  ==================================================

RSI: backtrader's default RSI raises ZeroDivisionError when the smoothed down
moves are exactly 0; we return what its ``safediv`` variant does (100 when only
up moves, 50 when flat), and otherwise the same value as RSI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from agents.model_state.source import Source
from hub.messages import IndicatorSpec

NAN = math.nan
INF = math.inf
FIELDS = ("open", "high", "low", "close", "volume")


class Indicator(Protocol):
    period: int

    def update(self) -> float: ...


class Smoother:
    """backtrader's ExponentialSmoothing: seed = fsum(first period values)/period, then prev*(1-alpha) + x*alpha."""

    __slots__ = ("period", "alpha", "alpha1", "value", "_seed")

    def __init__(self, period: int, alpha: float) -> None:
        self.period = period
        self.alpha = alpha
        self.alpha1 = 1.0 - alpha
        self.value = NAN
        self._seed: list[float] | None = []

    def push(self, x: float) -> float:
        seed = self._seed
        if seed is None:
            self.value = v = self.value * self.alpha1 + x * self.alpha
            return v
        seed.append(x)
        if len(seed) == self.period:
            self.value = math.fsum(seed) / self.period
            self._seed = None
        return self.value


class Sma:
    __slots__ = ("src", "period", "ready")

    def __init__(self, sources: Callable[[str], Source], period: int, source: str = "close") -> None:
        self.src = src = sources(source)
        src.enable_sums()
        self.period = period
        self.ready = src.count + period  # first value once the source has counted this many

    def update(self) -> float:
        src = self.src
        if src.run < self.period and src.count < self.ready:  # run >= period: exact path, warmed up
            return NAN
        return src.mean(self.period)


class Ema:
    __slots__ = ("src", "period", "_sm")

    def __init__(self, sources: Callable[[str], Source], period: int, source: str = "close") -> None:
        self.src = sources(source)
        self.period = period
        self._sm = Smoother(period, 2.0 / (1.0 + period))

    def update(self) -> float:
        return self._sm.push(self.src.last)


class Std:
    __slots__ = ("src", "sq", "period", "ready")

    def __init__(self, sources: Callable[[str], Source], period: int, source: str = "close") -> None:
        self.src = src = sources(source)
        src.enable_sums()
        self.sq = src.enable_squares()
        self.sq.enable_sums()
        self.period = period
        self.ready = src.count + period

    def update(self) -> float:
        if self.src.count < self.ready:
            return NAN
        p = self.period
        return abs(self.sq.mean(p) - self.src.mean(p) ** 2) ** 0.5


class Rsi:
    __slots__ = ("src", "period", "_prev", "_up", "_down")

    def __init__(self, sources: Callable[[str], Source], period: int, source: str = "close") -> None:
        self.src = sources(source)
        self.period = period
        self._prev: float | None = None
        self._up = Smoother(period, 1.0 / period)
        self._down = Smoother(period, 1.0 / period)

    def update(self) -> float:
        x = self.src.last
        prev = self._prev
        self._prev = x
        if prev is None:
            return NAN
        d = x - prev
        up = 0.0 if d < 0.0 else d  # backtrader: max([x - prev, 0.0])
        d = prev - x
        down = 0.0 if d < 0.0 else d
        maup = self._up.push(up)
        madown = self._down.push(down)
        if madown == 0.0:  # backtrader's safediv: 0/0 -> rs 1 (RSI 50), x/0 -> rs inf (RSI 100)
            return 100.0 - 100.0 / (1.0 + (1.0 if maup == 0.0 else INF))
        return 100.0 - 100.0 / (1.0 + maup / madown)


class Atr:
    __slots__ = ("high", "low", "close", "period", "_prev", "_sm")

    def __init__(self, sources: Callable[[str], Source], period: int, source: str = "hlc") -> None:
        self.high = sources("high")
        self.low = sources("low")
        self.close = sources("close")
        self.period = period
        self._prev: float | None = None
        self._sm = Smoother(period, 1.0 / period)

    def update(self) -> float:
        pc = self._prev
        self._prev = self.close.last
        if pc is None:
            return NAN
        h = self.high.last
        lo = self.low.last
        th = pc if pc > h else h  # backtrader: max([high, close(-1)])
        tl = pc if pc < lo else lo  # backtrader: min([low, close(-1)])
        return self._sm.push(th - tl)


KINDS: dict[str, type] = {"sma": Sma, "ema": Ema, "std": Std, "rsi": Rsi, "atr": Atr}


def check_spec(spec: IndicatorSpec) -> None:
    """Raise ValueError naming what is wrong: unknown kind, bad source for the kind, bad period."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown indicator kind {spec.kind!r} in {spec.name!r} (known: {', '.join(KINDS)})")
    allowed = ("hlc",) if spec.kind == "atr" else FIELDS
    if spec.source not in allowed:
        raise ValueError(
            f"bad source {spec.source!r} for {spec.kind} indicator {spec.name!r} (allowed: {', '.join(allowed)})"
        )
    if not isinstance(spec.period, int) or spec.period < 1:
        raise ValueError(f"bad period {spec.period!r} for {spec.kind} indicator {spec.name!r}")


def build(spec: IndicatorSpec, sources: Callable[[str], Source]) -> Indicator:
    """The indicator a spec names, on the given instrument's sources (``sources(field)``)."""
    check_spec(spec)
    return KINDS[spec.kind](sources, spec.period, spec.source)


def sources_of(spec: IndicatorSpec) -> tuple[str, ...]:
    """The bar fields a spec reads."""
    return ("high", "low", "close") if spec.kind == "atr" else (spec.source,)
