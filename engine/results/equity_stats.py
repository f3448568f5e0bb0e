"""The equity curve's figures, accumulated a chunk of marks at a time (the chunks equity.csv is written in).

Why streamed: a run's memory stays flat however long it is, so the marks
are never all held. Every figure is exact over the whole curve, as if
computed on the full arrays: the peak and drawdowns carry across chunks, the
returns' mean and variance merge chunk by chunk (Chan et al.), and the
geometric figures need only the first and last equity.

Definitions (the references the tests hold them to):

* drawdown ``1 - equity / running peak``; an episode runs from a mark at its
  peak to the next mark back at a peak (or the last mark); its duration is
  the time between those marks and its depth the deepest drawdown in it
  (backtesting.py's ``compute_drawdown_duration_peaks``);
* returns are per mark (bar timestamp): ``equity[i] / equity[i-1] - 1``.
"""

from __future__ import annotations

import math

import numpy as np

from .decimate import Decimator

DAY = 86_400_000_000_000
CHART_POINTS = 2000
WEEKEND = (5, 6)  # Saturday, Sunday (1970-01-01 was a Thursday: weekday = (day + 3) % 7)


class EquityStats:
    """Feed ``add(ts, equity)`` chunks in time order (one mark per timestamp); read the attributes."""

    def __init__(self) -> None:
        self.marks = 0
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.first: float | None = None
        self.last: float | None = None
        self.peak = -math.inf
        self.chart = Decimator(CHART_POINTS)  # the curve for the report: last equity and deepest drawdown per bucket
        # drawdowns
        self.max_drawdown = 0.0
        self.max_drawdown_duration = 0  # ns
        self.episodes = 0
        self.episode_depths = 0.0  # sum of every finished episode's depth
        self.episode_durations = 0  # ns, sum
        self._peak_ts: int | None = None  # ts of the last mark at its running peak
        self._depth = 0.0  # the open episode's deepest drawdown
        self._below = 0  # marks below the peak since the last mark at a peak
        # returns per mark
        self.returns = 0
        self.mean = 0.0
        self._m2 = 0.0
        self.downside_sq = 0.0  # sum of min(r, 0) ** 2
        # calendar
        self.days = 0  # distinct UTC days with a mark
        self.per_day: list[int] = []  # marks of each of those days
        self.weekend_marks = 0
        self._day: int | None = None
        self.month_ends: dict[str, float] = {}  # "YYYY-MM" -> last equity of that month
        self._month: int | None = None

    def add(self, ts: np.ndarray, equity: np.ndarray) -> None:
        n = len(ts)
        if not n:
            return
        ts = ts.astype(np.int64, copy=False)
        equity = equity.astype(np.float64, copy=False)
        if self.first is None:
            self.first, self.first_ts = float(equity[0]), int(ts[0])
        previous = self.last
        self._drawdowns(ts, equity)
        self._returns(equity if previous is None else np.concatenate(([previous], equity)))
        self._calendar(ts, equity)
        self.marks += n
        self.last, self.last_ts = float(equity[-1]), int(ts[-1])

    def finish(self) -> None:
        """An episode still open at the last mark ends there; as in backtesting.py, only if it spans two marks or more."""
        if self._below >= 2 and self.last_ts is not None and self._peak_ts is not None:
            self._episode(self._depth, self.last_ts - self._peak_ts)
        self._below = 0
        self._depth = 0.0

    # ------------------------------------------------------------ parts

    def _drawdowns(self, ts: np.ndarray, equity: np.ndarray) -> None:
        peaks = np.maximum.accumulate(np.concatenate(([self.peak], equity)))[1:]
        self.peak = float(peaks[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdown = np.where(peaks > 0, 1.0 - equity / peaks, 0.0)
        self.max_drawdown = max(self.max_drawdown, float(drawdown.max()))
        self.chart.add(ts, equity, equity, -drawdown, equity)
        zeros = np.flatnonzero(drawdown == 0.0)
        if not len(zeros):  # the open episode goes on through the whole chunk
            self._depth = max(self._depth, float(drawdown.max()))
            self._below += len(drawdown)
            return
        first = int(zeros[0])
        if first:  # the open episode ends at this chunk's first mark back at a peak
            self._depth = max(self._depth, float(drawdown[:first].max()))
            self._below += first
        if self._below and self._peak_ts is not None:
            self._episode(self._depth, int(ts[first]) - self._peak_ts)
        gaps = np.flatnonzero(np.diff(zeros) > 1)  # episodes between two peak marks of this chunk
        if len(gaps):
            depths = np.maximum.reduceat(drawdown, zeros)[gaps]
            durations = ts[zeros[gaps + 1]] - ts[zeros[gaps]]
            self.episodes += len(gaps)
            self.episode_depths += float(depths.sum())
            self.episode_durations += int(durations.sum())
            self.max_drawdown_duration = max(self.max_drawdown_duration, int(durations.max()))
        last = int(zeros[-1])
        self._peak_ts = int(ts[last])
        tail = drawdown[last + 1:]
        self._depth = float(tail.max()) if len(tail) else 0.0
        self._below = len(tail)

    def _episode(self, depth: float, duration: int) -> None:
        self.episodes += 1
        self.episode_depths += depth
        self.episode_durations += duration
        self.max_drawdown_duration = max(self.max_drawdown_duration, duration)

    def _returns(self, equity: np.ndarray) -> None:
        if len(equity) < 2:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            r = equity[1:] / equity[:-1] - 1.0
        k = len(r)
        mean = float(r.mean())
        m2 = float(((r - mean) ** 2).sum())
        n = self.returns
        total = n + k
        delta = mean - self.mean
        self.mean += delta * k / total
        self._m2 += m2 + delta * delta * n * k / total
        self.returns = total
        self.downside_sq += float((np.minimum(r, 0.0) ** 2).sum())

    def _calendar(self, ts: np.ndarray, equity: np.ndarray) -> None:
        days = ts // DAY
        starts = np.empty(len(days), dtype=bool)
        starts[0] = self._day is None or days[0] != self._day
        np.not_equal(days[1:], days[:-1], out=starts[1:])
        begins = np.flatnonzero(starts)
        if not starts[0]:  # the chunk goes on with the last day of the one before
            self.per_day[-1] += int(begins[0]) if len(begins) else len(days)
        self.per_day.extend(np.diff(np.append(begins, len(days))).tolist())
        self.days += int(starts.sum())
        self._day = int(days[-1])
        weekday = (days + 3) % 7
        self.weekend_marks += int(np.isin(weekday, WEEKEND).sum())
        months = ts.astype("datetime64[ns]").astype("datetime64[M]")
        month_numbers = months.astype(np.int64)
        last_of_month = np.flatnonzero(np.diff(month_numbers)) if len(months) > 1 else np.array([], dtype=np.int64)
        for i in [*last_of_month.tolist(), len(months) - 1]:
            self.month_ends[str(months[i])] = float(equity[i])

    # ------------------------------------------------------------ derived

    def chart_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bucket start ts, last equity, deepest drawdown as a negative fraction) of the down-sampled curve."""
        ts, _, _, drawdown, last = self.chart.buckets()
        return ts, last, drawdown

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of the returns; NaN with fewer than two."""
        return self._m2 / (self.returns - 1) if self.returns > 1 else math.nan
