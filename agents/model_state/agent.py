"""The model state agent: per-instrument indicators computed once, shared by every requester.

A requester (a strategy host...) publishes an :class:`IndicatorRequest`; its
specs apply to every instrument. Identical specs (same kind, period, source)
from any requesters are computed once. On each :class:`Bar` the agent updates
that instrument's state and publishes, for each requester, one
:class:`MarketState` with that requester's names and values in its order.

Indicators requested after bars already flowed warm up from the next bar on
(as if their data began there), for every instrument; the ones already
running are not disturbed. A requester that asks again replaces its list.
Instruments are discovered from the bars.

The per-bar work is :class:`~agents.model_state.publisher.StatePublisher`'s
(compiled when a C compiler is there); this class wires it and handles requests.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter

from agents.base import Agent
from agents.model_state.publisher import StatePublisher
from agents.model_state.specs import check_spec, longest_window
from agents.model_state.state import InstrumentState
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, IndicatorRequest, IndicatorSpec, MarketState

SpecKey = tuple[str, int, str]


def _key(spec: IndicatorSpec) -> SpecKey:
    return (spec.kind, spec.period, spec.source)


def _picker(indices: tuple[int, ...], total: int) -> Callable[[tuple], tuple] | None:
    """How to cut a requester's values out of the shared ones; None when they are the same tuple."""
    if indices == tuple(range(total)):
        return None
    if len(indices) == 1:
        i = indices[0]
        return lambda values: (values[i],)
    if not indices:
        return lambda values: ()
    return itemgetter(*indices)


class ModelStateAgent(Agent):
    name = "model_state"

    def __init__(self, bus: Bus, clock: Callable[[], int], lookback: int = 0) -> None:
        """``lookback``: minimum history kept per field (default: longest period + 1)."""
        super().__init__(bus, clock)
        self.lookback = lookback
        self.specs: list[IndicatorSpec] = []  # unique, in first-request order
        self._index: dict[SpecKey, int] = {}
        self._requests: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {}
        self.states: dict[str, InstrumentState] = {}
        # The bar handler; the hot path's publish is pre-resolved.
        self._path = StatePublisher(self.states, self._new_state, bus.publisher(K.MARKET_STATE), MarketState)

    def attach(self) -> None:
        self.bus.subscribe(self.name, K.INDICATOR_REQUEST, self.on_request)
        self.bus.subscribe(self.name, K.BAR, self._path.on_bar)

    @property
    def capacity(self) -> int:
        return max([self.lookback] + [longest_window(s) for s in self.specs] + [1])

    # ------------------------------------------------------------ handlers

    def on_request(self, msg: IndicatorRequest) -> None:
        for spec in msg.specs:  # all or nothing: validate before changing anything
            check_spec(spec)
        indices = []
        for spec in msg.specs:
            key = _key(spec)
            if key not in self._index:
                self._index[key] = len(self.specs)
                self.specs.append(spec)
                capacity = self.capacity
                for state in self.states.values():
                    state.grow(capacity)
                    state.add(spec)
            indices.append(self._index[key])
        self._requests[msg.requester] = (tuple(s.name for s in msg.specs), tuple(indices))
        total = len(self.specs)
        self._path.routes = tuple((req, names, _picker(idx, total)) for req, (names, idx) in self._requests.items())

    def on_bar(self, bar: Bar) -> None:
        """The hot path (:class:`StatePublisher`): update the instrument, publish per requester."""
        self._path.on_bar(bar)

    # ------------------------------------------------------------ internals

    def _new_state(self, instrument: str) -> InstrumentState:
        state = self.states[instrument] = InstrumentState(self.capacity)
        for spec in self.specs:
            state.add(spec)
        return state
