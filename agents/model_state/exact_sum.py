"""Exact window sums: SMA equal to backtrader's ``math.fsum(window) / period``, bit for bit.

Why not fsum per bar: it costs ~0.6 us for 30 values. Why not a float running
sum: it drifts, and at exact ties (two SMAs equal on a 0.01 price grid) the sign
of a difference of ~1e-15 decides whether a crossover trades.

Any finite float with ``|x| >= 2**-27`` (or 0) times ``2**80`` is an integer
held exactly by a float (the product is >= 2**53, and scaling by a power of two
is exact), so ``trunc(x * 2**80)`` is the value as an exact Python int. Sums of
those ints are exact. ``int / float`` converts the int with correct rounding
(``PyLong_AsDouble``), so ``S / (period * 2**80)`` == ``round(round(S / 2**80) / period)``
== ``fsum(window) / period``: fsum is the correctly rounded exact sum, and the
power-of-two scaling commutes with rounding while no result is subnormal.

Values outside that range (tiny non-zero magnitudes, inf, nan, |x| >= 2**943
whose product overflows) have no exact scaled int: :func:`scaled` returns None
and callers fall back to fsum over the window history.
"""

from __future__ import annotations

import math

SCALE = 2.0**80
TINY = 2.0**-27  # smallest magnitude whose scaled value is an exact integer

_trunc = math.trunc  # ~2x cheaper than int() on a float in CPython 3.11


def scaled(x: float) -> int | None:
    """``x * 2**80`` as an exact int, or None when ``x`` is outside the exact range."""
    if x >= TINY or x <= -TINY or x == 0.0:  # false for nan
        try:
            return _trunc(x * SCALE)
        except OverflowError:  # inf, or |x| so large the product overflows
            return None
    return None


def mean_of_scaled(total: int, period: int) -> float:
    """``total / 2**80 / period`` correctly rounded twice, as fsum(window)/period is."""
    return total / (period * SCALE)
