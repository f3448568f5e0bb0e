"""Incremental indicators, O(1) a bar, equal to backtrader 1.9.78.123's bit for bit.

Every indicator, built-ins included, is an :class:`Indicator`: built on its
inputs (:class:`Series` of bar fields or of other indicators' outputs, or
other indicators), its ``update()`` runs once per bar after its inputs'
and returns its value, NaN until it has had ``warmup`` bars. An indicator
built after bars already flowed behaves as if its data began with the next
bar: it counts its own bars.

=====  ==============================  ==================================================
kind   backtrader                      first value after (``warmup``)
=====  ==============================  ==================================================
sma    SMA: fsum(window)/period        period bars (exact running sums, see exact_sum)
ema    EMA: ExponentialSmoothing       period bars; seed = SMA, then prev*(1-a) + x*a, a=2/(p+1)
std    StdDev (safepow=True)           period bars; abs(SMA(x**2) - SMA(x)**2) ** 0.5
rsi    RSI_Safe (= RSI, no 0-divide)   period+1 bars; Wilder smoothing (a=1/p) of up/down moves
atr    ATR                             period+1 bars; Wilder smoothing of the true range
=====  ==============================  ==================================================

RSI: backtrader's default RSI raises ZeroDivisionError when the smoothed down
moves are exactly 0; we return what its ``safediv`` variant does (100 when only
up moves, 50 when flat), and otherwise the same value as RSI.

Powers are libm's ``pow``, as Python's ``**`` (and so backtrader) computes
them: ``x ** TWO`` with ``TWO`` a variable, because a C compiler turns
``pow(x, 2.0)`` into ``x * x``, which differs from ``pow`` about once in a
thousand values.
"""

from __future__ import annotations

import math

from agents.model_state.exact_sum import ExactSum, fits, limit_for
from agents.model_state.series import Series

NAN = math.nan
INF = math.inf
TWO = 2.0
HALF = 0.5


def square(x: float) -> float:
    """``x ** 2`` as libm's ``pow`` computes it (Python's ``**``, backtrader's ``pow(data, 2)``); inf on overflow.

    Where the square overflows, Python's ``**`` raises OverflowError and C's
    ``pow`` returns inf: both modes return inf, as the compiled code would.
    """
    if x * x == INF:
        return INF
    return x**TWO


class Indicator:
    """What every indicator implements: ``update()`` once a bar, after its inputs; ``warmup`` bars before a value.

    ``value`` is the latest value (the instrument's state stores what
    ``update()`` returns); ``output`` is the :class:`Series` of its values when
    another indicator reads their history, else None. A subclass written in
    plain Python is called like the built-ins (compiled or not).
    """

    def __init__(self, warmup) -> None:
        self.warmup = warmup  # (int) bars from its first one to its first value
        self.value = NAN
        self.output = None

    def update(self) -> float:
        """This bar's value, NaN while warming up."""
        raise NotImplementedError


class Smoother:
    """backtrader's ExponentialSmoothing: seed = fsum(first period values)/period, then prev*(1-alpha) + x*alpha."""

    def __init__(self, period, alpha: float) -> None:
        self.period = period
        self.alpha = alpha
        self.alpha1 = 1.0 - alpha
        self.value = NAN
        self.seed = []  # the first values, until there are ``period`` of them; then None

    def push(self, x: float) -> float:
        if self.seed is None:
            self.value = self.value * self.alpha1 + x * self.alpha
        else:
            self.seed.append(x)
            if len(self.seed) == self.period:
                self.value = math.fsum(self.seed) / self.period
                self.seed = None
        return self.value


class Sma(Indicator):
    """Mean of the last ``period`` values: the exact window sum, correctly rounded, / period.

    The window's values are in an :class:`ExactSum` while they all
    :func:`fit <agents.model_state.exact_sum.fits>`; a window holding one that
    does not (NaN, an infinity, a magnitude near the float limit) is summed by
    ``math.fsum`` itself, which is the definition the exact sum reproduces.
    """

    def __init__(self, src: Series, period) -> None:
        Indicator.__init__(self, period)
        self.src = src
        self.period = period
        self.limit = limit_for(period)
        self.sum = ExactSum()
        self.run = 0  # how many of the newest values are in the sum (at most period)
        self.seen = 0  # values since this SMA began

    def update(self) -> float:
        x = self.src.latest
        self.seen += 1
        if fits(x, self.limit):
            if self.run == self.period:  # the value leaving the window has been in the sum since it came
                self.sum.slide(x, self.src.ago(self.period))
            else:
                self.sum.add(x)
                self.run += 1
        else:
            self.sum.clear()
            self.run = 0
        if self.run == self.period:
            return self.sum.rounded() / self.period
        if self.seen < self.period:
            return NAN
        return math.fsum(self.src.last(self.period)) / self.period


class Ema(Indicator):
    def __init__(self, src: Series, period) -> None:
        Indicator.__init__(self, period)
        self.src = src
        self.smoother = Smoother(period, 2.0 / (1.0 + period))

    def update(self) -> float:
        return self.smoother.push(self.src.latest)


class Square(Indicator):
    """``x ** 2`` of each value (backtrader's ``pow(data, 2)``), the input of a std's second SMA."""

    def __init__(self, src: Series) -> None:
        Indicator.__init__(self, 1)
        self.src = src

    def update(self) -> float:
        return square(self.src.latest)


class Std(Indicator):
    """backtrader's StdDev: ``abs(SMA(x**2) - SMA(x)**2) ** 0.5``, on the two SMAs of one period."""

    def __init__(self, mean: Sma, mean_of_squares: Sma) -> None:
        Indicator.__init__(self, mean_of_squares.warmup)
        self.mean = mean
        self.mean_of_squares = mean_of_squares

    def update(self) -> float:
        return abs(self.mean_of_squares.value - square(self.mean.value)) ** HALF


class Rsi(Indicator):
    def __init__(self, src: Series, period) -> None:
        Indicator.__init__(self, period + 1)
        self.src = src
        self.started = False
        self.prev = NAN
        self.up = Smoother(period, 1.0 / period)
        self.down = Smoother(period, 1.0 / period)

    def update(self) -> float:
        x = self.src.latest
        prev = self.prev
        self.prev = x
        if not self.started:
            self.started = True
            return NAN
        d = x - prev
        up = 0.0 if d < 0.0 else d  # backtrader: max([x - prev, 0.0])
        d = prev - x
        down = 0.0 if d < 0.0 else d
        maup = self.up.push(up)
        madown = self.down.push(down)
        if madown == 0.0:  # backtrader's safediv: 0/0 -> rs 1 (RSI 50), x/0 -> rs inf (RSI 100)
            return 100.0 - 100.0 / (1.0 + (1.0 if maup == 0.0 else INF))
        return 100.0 - 100.0 / (1.0 + maup / madown)


class Atr(Indicator):
    def __init__(self, high: Series, low: Series, close: Series, period) -> None:
        Indicator.__init__(self, period + 1)
        self.high = high
        self.low = low
        self.close = close
        self.started = False
        self.prev_close = NAN
        self.smoother = Smoother(period, 1.0 / period)

    def update(self) -> float:
        pc = self.prev_close
        self.prev_close = self.close.latest
        if not self.started:
            self.started = True
            return NAN
        h = self.high.latest
        lo = self.low.latest
        th = pc if pc > h else h  # backtrader: max([high, close(-1)])
        tl = pc if pc < lo else lo  # backtrader: min([low, close(-1)])
        return self.smoother.push(th - tl)
