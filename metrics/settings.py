"""What a metrics session needs, checked before anything starts: a bad setting is a config error."""

from __future__ import annotations

from dataclasses import dataclass

from metrics import names


@dataclass(frozen=True)
class MetricsSettings:
    address: str  # HOST:PORT of the StatsD server
    prefix: str = "engine"
    slow_callback_s: float = 0.050  # a callback or handler this long is reported
    flush_interval_s: float = 1.0  # loop time between two pulls of the counters
    loop_lag_interval_s: float = 0.25  # aiodebug's monitor_loop_lag period
    sample_every: int = 64  # time one handler call in this many
    hang_after_s: float = 1.0  # report a handler still running after this long, while it runs

    def __post_init__(self) -> None:
        if self.prefix and any(names.part(p) != p for p in self.prefix.split(".")):
            raise ValueError(f"statsd prefix {self.prefix!r}: use dot-separated letters, digits, '_' and '-'")
        for field in ("slow_callback_s", "flush_interval_s", "loop_lag_interval_s", "hang_after_s"):
            if not getattr(self, field) > 0:
                raise ValueError(f"metrics {field} must be > 0, got {getattr(self, field)!r}")
        if self.sample_every < 1:
            raise ValueError(f"metrics sample_every must be >= 1, got {self.sample_every!r}")
