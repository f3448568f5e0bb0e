"""The rolling state of one instrument: its input series and the indicators on them."""

from __future__ import annotations

from agents.model_state.indicators import Indicator, Sma, build, sources_of
from agents.model_state.kernel import Kernel
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
        self.kernel = Kernel((), (), (), (), ())

    def source(self, field: str) -> Source:
        src = self.sources.get(field)
        if src is None:
            src = self.sources[field] = Source(self.capacity, self._block)
        return src

    def add(self, spec: IndicatorSpec) -> Indicator:
        """Append an indicator; it warms up from the next bar on."""
        for field in sources_of(spec):
            self.source(field)
        ind = build(spec, self.source)
        self.indicators.append(ind)
        self._wire()
        return ind

    def grow(self, capacity: int) -> None:
        if capacity > self.capacity:
            self.capacity = capacity
            for src in self.sources.values():
                src.grow(capacity)

    def update(self, bar: Bar) -> tuple[float, ...]:
        """Push the bar into the sources, return every indicator's value (the agent calls ``kernel`` directly)."""
        return self.kernel.update(bar)

    def _wire(self) -> None:
        """Build the compiled :class:`Kernel` for the current sources and indicators.

        Why: as Python, the loop over sources and indicators (even generated
        as straight-line code) was the costliest step of a backtest's bar.
        """
        sma_sources = [ind.src if type(ind) is Sma else None for ind in self.indicators]
        self.kernel = Kernel(
            list(self.sources), list(self.sources.values()), [ind.update for ind in self.indicators],
            sma_sources, [int(ind.period) for ind in self.indicators],
        )
