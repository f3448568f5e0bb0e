"""From a requested :class:`IndicatorSpec` to the indicators that compute it on one instrument.

Each kind has a builder: it asks the instrument's state for the series it
reads (``state.series(source)``: a bar field's name, or the key of another
indicator whose values it reads) and for its indicator by key
(``state.node(key, make)``), so identical indicators, and the parts they
share (a std's SMA and a requested SMA of the same period), are built once.
A new kind (WMA, MACD, an indicator of an indicator) is one builder here and,
if it needs one, one :class:`~agents.model_state.indicators.Indicator` class.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Protocol

from agents.model_state.indicators import Atr, Ema, Indicator, Rsi, Sma, Square, Std
from agents.model_state.series import Series
from hub.messages import IndicatorSpec

FIELDS = ("open", "high", "low", "close", "volume")


class Graph(Protocol):
    """What a builder needs from an instrument's state (:class:`~agents.model_state.state.InstrumentState`)."""

    def series(self, source: Hashable) -> Series: ...

    def node(self, key: Hashable, make: Callable[[], Indicator]) -> Indicator: ...


def sma(state: Graph, period: int, source: Hashable) -> Indicator:
    return state.node(("sma", period, source), lambda: Sma(state.series(source), period))


def ema(state: Graph, period: int, source: Hashable) -> Indicator:
    return state.node(("ema", period, source), lambda: Ema(state.series(source), period))


def std(state: Graph, period: int, source: Hashable) -> Indicator:
    mean = sma(state, period, source)
    squares = ("square", source)
    state.node(squares, lambda: Square(state.series(source)))
    mean_of_squares = sma(state, period, squares)
    return state.node(("std", period, source), lambda: Std(mean, mean_of_squares))


def rsi(state: Graph, period: int, source: Hashable) -> Indicator:
    return state.node(("rsi", period, source), lambda: Rsi(state.series(source), period))


def atr(state: Graph, period: int, source: Hashable) -> Indicator:
    return state.node(("atr", period), lambda: Atr(state.series("high"), state.series("low"),
                                                   state.series("close"), period))


Builder = Callable[[Graph, int, Hashable], Indicator]
KINDS: dict[str, tuple[Builder, tuple[str, ...]]] = {  # kind -> (builder, the sources a spec may name)
    "sma": (sma, FIELDS),
    "ema": (ema, FIELDS),
    "std": (std, FIELDS),
    "rsi": (rsi, FIELDS),
    "atr": (atr, ("hlc",)),
}


def check_spec(spec: IndicatorSpec) -> None:
    """Raise ValueError naming what is wrong: unknown kind, bad source for the kind, bad period."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown indicator kind {spec.kind!r} in {spec.name!r} (known: {', '.join(KINDS)})")
    allowed = KINDS[spec.kind][1]
    if spec.source not in allowed:
        raise ValueError(
            f"bad source {spec.source!r} for {spec.kind} indicator {spec.name!r} (allowed: {', '.join(allowed)})"
        )
    if not isinstance(spec.period, int) or isinstance(spec.period, bool) or spec.period < 1:
        raise ValueError(f"bad period {spec.period!r} for {spec.kind} indicator {spec.name!r}")


def build(spec: IndicatorSpec, state: Graph) -> Indicator:
    """The indicator a spec names, on one instrument's state (built, with its parts, unless it exists)."""
    check_spec(spec)
    return KINDS[spec.kind][0](state, spec.period, spec.source)


def longest_window(spec: IndicatorSpec) -> int:
    """How many values of its inputs a spec's indicators read back (the series' capacity must hold them)."""
    return spec.period + 1
