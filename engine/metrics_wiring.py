"""Turns the [metrics] config into a running metrics session (or none when StatsD is off)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from engine.config import Config


@contextlib.contextmanager
def metrics_for(config: Config) -> Iterator[Any]:
    if not config.metrics.statsd:
        yield None
        return
    raise ValueError("--statsd is not available yet")  # replaced when metrics/ lands (issue 3)
