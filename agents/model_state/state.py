"""The rolling state of one instrument: its input series and the indicators on them."""

from __future__ import annotations

from operator import attrgetter

from agents.model_state.indicators import Indicator, build, sources_of
from agents.model_state.ring import DEFAULT_BLOCK
from agents.model_state.source import Source
from hub.messages import Bar, IndicatorSpec


class InstrumentState:
    """``update(bar)`` pushes the bar's fields into their sources, then returns every indicator's value.

    Sources are made only for the fields some indicator reads, so a bar costs
    nothing for fields nobody asked for.
    """

    def __init__(self, capacity: int, block: int = DEFAULT_BLOCK) -> None:
        self.capacity = capacity
        self._block = block
        self.sources: dict[str, Source] = {}
        self.indicators: list[Indicator] = []
        self._feeds: list[tuple[attrgetter, Source]] = []
        self._updates: list = []

    def source(self, field: str) -> Source:
        src = self.sources.get(field)
        if src is None:
            src = self.sources[field] = Source(self.capacity, self._block)
            self._feeds.append((attrgetter(field), src))
        return src

    def add(self, spec: IndicatorSpec) -> Indicator:
        """Append an indicator; it warms up from the next bar on."""
        for field in sources_of(spec):
            self.source(field)
        ind = build(spec, self.source)
        self.indicators.append(ind)
        self._updates.append(ind.update)
        return ind

    def grow(self, capacity: int) -> None:
        if capacity > self.capacity:
            self.capacity = capacity
            for src in self.sources.values():
                src.grow(capacity)

    def update(self, bar: Bar) -> tuple[float, ...]:
        for get, src in self._feeds:
            src.push(get(bar))
        return tuple([u() for u in self._updates])
