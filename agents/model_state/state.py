"""The rolling state of one instrument: its input series and the indicators on them, updated once a bar."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from agents.model_state.indicators import Indicator
from agents.model_state.series import Series
from agents.model_state.specs import build
from hub.messages import IndicatorSpec


class InstrumentState:
    """``update(bar)`` pushes the bar's fields into their series, runs every indicator, returns the requested values.

    Series exist only for the bar fields some indicator reads (and for the
    indicators whose values another one reads), so a bar costs nothing for
    fields nobody asked for. Every series holds the last ``capacity`` values.
    """

    def __init__(self, capacity) -> None:
        self.capacity = capacity  # (int) values held by every series
        self.sources = {}  # bar field -> its Series
        self.nodes = []  # every indicator, each after the ones it reads: the order they update in
        self.indicators = []  # one per spec added, in order: the order of update()'s values
        self.keys = {}  # an indicator's key (kind, period, source...) -> the indicator
        self.fields = ()  # the bar fields pushed each bar...
        self.inputs = ()  # ...and their series, in the same order
        self.values = []  # the requested values, refilled each bar (update() returns them as a tuple)

    def series(self, source: Hashable) -> Series:
        """The series of a bar field (a name) or of an indicator's values (its key), made on first use."""
        if isinstance(source, str):
            found = self.sources.get(source)
            if found is None:
                found = self.sources[source] = Series(self.capacity)
                self.fields += (source,)
                self.inputs += (found,)
            return found
        node = self.keys[source]
        if node.output is None:  # its values start flowing into the series from the next bar
            node.output = Series(self.capacity)
        return node.output

    def node(self, key: Hashable, make: Callable[[], Indicator]) -> Indicator:
        """The indicator with this key, made (after everything it reads exists) if it does not exist yet."""
        found = self.keys.get(key)
        if found is None:
            found = self.keys[key] = make()
            self.nodes.append(found)
        return found

    def add(self, spec: IndicatorSpec) -> Indicator:
        """Build a requested indicator (unless it exists) and :meth:`track` it; a new one warms up from the next bar."""
        return self.track(build(spec, self))

    def track(self, indicator: Indicator) -> Indicator:
        """Append an indicator of this state's to the ones whose values update() returns."""
        if indicator not in self.nodes:
            raise ValueError(f"{indicator!r} is not an indicator of this instrument (build it with node())")
        self.indicators.append(indicator)
        self.values.append(indicator.value)
        return indicator

    def grow(self, capacity) -> None:
        """Hold more values in every series (a longer period was requested)."""
        if capacity <= self.capacity:
            return
        self.capacity = capacity
        for series in self.sources.values():
            series.grow(capacity)
        for node in self.nodes:
            if node.output is not None:
                node.output.grow(capacity)

    def update(self, bar) -> tuple:
        """Push ``bar`` (a Bar) into the series, update every indicator; the requested values, in order."""
        fields = self.fields
        inputs = self.inputs
        for i in range(len(fields)):
            series = inputs[i]
            series.push(float(getattr(bar, fields[i])))
        for node in self.nodes:
            value = node.update()
            node.value = value
            if node.output is not None:
                node.output.push(value)
        values = self.values
        for i, node in enumerate(self.indicators):
            values[i] = node.value
        return tuple(values)
