"""The model state agent's ``md.bar`` handler: update the bar's instrument, publish a MarketState per requester."""

from __future__ import annotations

from collections.abc import Callable

from agents.model_state.state import InstrumentState
from hub.messages import MarketState


class StatePublisher:
    """``on_bar`` is the hot path the agent subscribes; ``routes`` says who gets what.

    ``routes`` holds ``(requester, names, pick)``: ``pick`` cuts a requester's
    values out of the shared tuple (None: all of them, in order).
    """

    def __init__(self, states: dict, new_state: Callable[[str], InstrumentState],
                 publish: Callable[[MarketState], None], make: type[MarketState]) -> None:
        self.states = states  # instrument -> its InstrumentState
        self.new_state = new_state  # makes (and registers) the state of an instrument seen for the first time
        self.publish = publish
        self.make = make
        self.routes = ()

    def on_bar(self, bar) -> None:
        state = self.states.get(bar.instrument)
        if state is None:
            state = self.new_state(bar.instrument)
        values = state.update(bar)
        ts = bar.ts
        for requester, names, pick in self.routes:  # positional: keyword construction costs more
            self.publish(self.make(ts, bar, requester, names, values if pick is None else pick(values)))
