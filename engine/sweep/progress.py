"""The progress bar on stderr: count, rate and ETA, and how many backtests failed so far.

Why tqdm: it computes a smoothed rate and ETA, redraws in place and costs
microseconds per update; it is silent when stderr is not a terminal (logs,
CI) or when asked, so piping a sweep's output never fills it with bars.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


def wants_bar(quiet: bool, stream: TextIO) -> bool:
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """``update(row)`` once per finished backtest; use as a context manager so the bar is closed."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None, desc: str = "sweep") -> None:
        from tqdm import tqdm

        stream = stream if stream is not None else sys.stderr
        self.enabled = wants_bar(quiet, stream)
        self.done = 0
        self.failed = 0
        self._bar = tqdm(total=total, desc=desc, unit="bt", file=stream, disable=not self.enabled,
                         dynamic_ncols=True, smoothing=0.05, mininterval=0.2)

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        if row.get("error"):
            self.failed += 1
            self._bar.set_postfix(failed=self.failed, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
