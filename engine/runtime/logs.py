"""logwood set-up. It must run before any Hub, Subscriber or aiodebug hook exists
(they create loggers at construction, and logwood refuses to configure after that)."""

from __future__ import annotations

import logwood
from logwood import state
from logwood.handlers.stderr import StderrHandler

LEVELS = {"debug": logwood.DEBUG, "info": logwood.INFO, "warning": logwood.WARNING, "error": logwood.ERROR}


def configure_logging(level: str = "warning") -> None:
    """Configure logwood once per process; a second call (or pytest's plugin having run) is a no-op."""
    if state.config_called:
        return
    logwood.basic_config(
        handlers=[StderrHandler()],
        level=LEVELS[level],
        format="%(timestamp).3f %(level)-7s %(name)s: %(message)s",
    )
