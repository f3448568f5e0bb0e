"""The rolling state of one instrument: its input series and the indicators on them."""

from __future__ import annotations

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
        """Push the bar into the sources, return every indicator's value (replaced by :meth:`_wire`)."""
        return ()

    def _wire(self) -> None:
        """Compile ``update`` for the current sources and indicators.

        Why: a generic loop (attrgetter per field, a list comprehension over
        the indicators, tuple()) cost ~0.5 us a bar, as much as the
        indicators themselves. The generated function is straight-line code
        calling the same bound methods, e.g. for two SMAs on close::

            def update(bar):
                push_0(bar.close)
                return (update_0(), update_1())
        """
        ns = {f"push_{i}": src.push for i, src in enumerate(self.sources.values())}
        ns.update({f"update_{i}": ind.update for i, ind in enumerate(self.indicators)})
        lines = [f"    push_{i}(bar.{field})" for i, field in enumerate(self.sources)]  # fields are checked names
        values = "".join(f"update_{i}(), " for i in range(len(self.indicators)))
        lines.append(f"    return ({values})")
        exec("def update(bar):\n" + "\n".join(lines), ns)  # noqa: S102 - generated from checked names only
        self.update = ns["update"]  # type: ignore[method-assign]
