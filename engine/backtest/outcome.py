"""Whether a run succeeded, and if not, why: what summary.json's ``status`` and ``error`` say.

Every handler exception is published on ``sys.error`` as an ``AgentError``
(the bus logs its traceback). By default (``on_error = "fail"``) the first
one stops the replay after the bar that raised, and the run is marked failed
with that error; ``on_error = "continue"`` counts them and goes on. A run
whose strategy never received a market state (so never reached ``on_bar``)
failed too, whatever ``on_error`` says: it has no result to show.
"""

from __future__ import annotations

from typing import Any

from hub import keys as K
from hub.bus import Bus
from hub.messages import AgentError

OK, FAILED = "ok", "failed"


class ErrorWatch:
    """Counts a run's agent errors and keeps the first; ``halt`` fills at the first when errors stop the run."""

    name = "driver"

    def __init__(self, bus: Bus, stop_at_first: bool) -> None:
        self.count = 0
        self.first: AgentError | None = None
        self.halt: list[AgentError] = []  # the replay loop tests it after every bar
        self.replaying = False  # set by the driver once bars flow: an earlier error has no bar time
        self.first_in_replay = False
        self._stop = stop_at_first
        bus.subscribe(self.name, K.AGENT_ERROR, self._on_error)

    def _on_error(self, error: AgentError) -> None:
        self.count += 1
        if self.first is None:
            self.first = error
            self.first_in_replay = self.replaying
            if self._stop:
                self.halt.append(error)

    @property
    def stopped(self) -> bool:
        return bool(self.halt)


def states_delivered(bus: Bus, agent: str) -> int:
    """Market states the agent's handlers were given (the bus's own counts): 0 means ``on_bar`` never ran."""
    return sum(s.handled for s in bus.subscriptions if s.agent == agent and s.key == K.MARKET_STATE)


def error_fields(error: AgentError, at: str | None) -> dict[str, Any]:
    return {"agent": error.agent, "handler": error.handler, "key": error.key, "type": error.error_type,
            "message": error.error, "at": at}


def outcome(watch: ErrorWatch, on_error: str, bars: int, states: int, at: str | None) -> dict[str, Any]:
    """``status``, ``error`` (what failed, where and when; None if the run did not) and ``agent_errors``.

    ``at`` is the time of the bar being handled when the first error came
    (None: before the first bar). A run that went on past errors
    (``continue``) keeps the first as ``first_agent_error``.
    """
    first = error_fields(watch.first, at) if watch.first is not None else None
    never_ran = not states and (bars > 0 or first is not None)
    if (first is not None and on_error == "fail") or never_ran:
        error = first or {"message": "no market state was published for the strategy"}
        if never_ran:
            error["message"] += "; the strategy never reached on_bar"
        return {"status": FAILED, "error": error, "on_error": on_error, "agent_errors": watch.count}
    result: dict[str, Any] = {"status": OK, "error": None, "on_error": on_error, "agent_errors": watch.count}
    if first is not None:
        result["first_agent_error"] = first
    return result


def error_text(summary: dict[str, Any]) -> str:
    """One line for a failed run: who raised what, on which bar."""
    error = summary.get("error") or {}
    who = f"{error['agent']}.{error['handler']} on {error['key']}: {error['type']}: " if error.get("agent") else ""
    when = f" (bar {error['at']})" if error.get("at") else ""
    return f"{who}{error.get('message', 'unknown error')}{when}"
