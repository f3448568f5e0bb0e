"""Exact running sums, so an SMA equals backtrader's ``math.fsum(window) / period`` bit for bit.

Why exact: on a 0.01 price grid two SMAs tie exactly about once in 1,100
bars, and the sign of a ~1e-15 difference decides whether a crossover trades
(shared/notes/parity.md). A float running sum drifts; fsum over the window
every bar costs a loop over the window.

How: ``math.fsum`` keeps the exact sum of the values it has seen as
Shewchuk's non-overlapping partials, then rounds them once. :class:`ExactSum`
keeps those partials between calls. :meth:`ExactSum.add` is fsum's inner loop
for one value (each two-sum's rounding error is kept as a partial, so
nothing is lost); a window that takes a value and drops its oldest adds their
exact difference (:meth:`ExactSum.slide`). :meth:`ExactSum.rounded` is fsum's final step (round half
to even across the partials). So after any sequence of adds the partials are
the ones fsum would hold after that same sequence, and ``rounded()`` is fsum
of it: the correctly rounded exact sum, which is fsum of the window's values.

fsum's own limits apply: a NaN or an infinity has no partials, and sums near
the top of the float range overflow. :func:`fits` says which values stay
clear of both; a window holding any other value is summed by ``math.fsum``
itself (see :class:`agents.model_state.indicators.Sma`).
"""

from __future__ import annotations

from array import array

MAX_TOTAL = 2.0**1000  # window sums (and fsum's intermediate ones) stay far below the largest float, 2**1024
FIRST_SIZE = 4  # partials slots to start with; prices on a grid need 1-3


def fits(x: float, limit: float) -> bool:
    """Whether ``x`` can be summed exactly in a window whose values are all at most ``limit`` in magnitude."""
    return abs(x) <= limit  # false for NaN and the infinities


def limit_for(period) -> float:
    """The largest magnitude that keeps a sum of ``period`` (int) values (and every partial) clear of overflow."""
    return MAX_TOTAL / period


class ExactSum:
    """The exact sum of the values added so far, held as math.fsum's partials; ``rounded()`` reads it."""

    def __init__(self) -> None:
        self.partials = array("d", bytes(8 * FIRST_SIZE))
        self.size = 0  # partials[:size]: none zero, strictly increasing in magnitude, non-overlapping bits

    def clear(self) -> None:
        self.size = 0

    def add(self, x: float) -> None:
        """Add ``x`` (finite, see :func:`fits`) exactly: fsum's loop over the partials, for one value."""
        kept = 0
        for i in range(self.size):
            y = self.partials[i]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)  # the rounding error of hi, itself a float (two-sum)
            if lo != 0.0:
                self.partials[kept] = lo
                kept += 1
            x = hi
        if x != 0.0:
            if kept == len(self.partials):
                self._grow()
            self.partials[kept] = x
            kept += 1
        self.size = kept

    def slide(self, incoming: float, outgoing: float) -> None:
        """Add ``incoming`` and subtract ``outgoing`` (both finite, see :func:`fits`), exactly.

        One add instead of two when ``incoming - outgoing`` is exact, as it is
        for two values within a factor of two of each other (Sterbenz): the
        difference's rounding error, computed exactly (Knuth's two-sum), is 0.
        """
        b = -outgoing
        d = incoming + b
        b_part = d - incoming
        error = (incoming - (d - b_part)) + (b - b_part)
        self.add(d)
        if error != 0.0:
            self.add(error)

    def rounded(self) -> float:
        """The sum correctly rounded to a float, half to even: fsum's final step."""
        partials = self.partials
        n = self.size
        if n == 0:
            return 0.0
        n -= 1
        hi = partials[n]
        lo = 0.0
        while n > 0:  # add from the top while the sum stays exact
            x = hi
            n -= 1
            y = partials[n]
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                break
        # hi is off by exactly half an ulp (lo) and the partials below push the same way: round away.
        if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
            y = lo * 2.0
            x = hi + y
            if y == x - hi:
                hi = x
        return hi

    def _grow(self) -> None:
        """Twice the slots (rare: partials have distinct exponents, so they are few for values of similar size)."""
        old = self.partials
        bigger = array("d", bytes(16 * len(old)))
        for i in range(len(old)):
            bigger[i] = old[i]
        self.partials = bigger
