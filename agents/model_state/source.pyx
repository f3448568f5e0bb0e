# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""One input series of one instrument: a bar field (or its squares, for std). Compiled (Cython).

It keeps the history on a :class:`RingBuffer` and, once an exact-sum indicator
asks for it, exact prefix sums of the scaled values: the scaled int of each
value is computed once per bar and shared by every SMA/std on the series; a
window sum is then one subtraction, ``total - prefix[pos - period]``.

Why compiled: as Python objects the scaled ints were 80-bit bigints, and a
bar's push and two SMA reads cost ~6k CPU instructions, a sixth of a
backtest. Here they are 128-bit C integers (gcc's ``__int128``) summed
modulo 2**128: a window's difference of two prefixes is still exact while
the window's true sum fits, which ``_limit`` guarantees (every exact value's
magnitude is below ``2**46 / (capacity + 1)``, so any window of at most
``capacity`` scaled values stays below ``2**126``). A value outside that
range takes the fsum path for the windows holding it, as a value outside
the scaled range always did: the same result (see :mod:`exact_sum`), slower.
The int -> double conversion is correctly rounded, as ``PyLong_AsDouble`` is.
"""

from libc.math cimport fabs, pow
from libc.stdlib cimport calloc, free

import math

import numpy as np

from agents.model_state.ring import DEFAULT_BLOCK, RingBuffer

cdef double SCALE = 2.0 ** 80
cdef double TINY = 2.0 ** -27
cdef double NAN = math.nan
cdef double TWO = 2.0  # a variable: gcc folds pow(x, 2.0) into x * x, which libm's pow (Python's **) can differ from


cdef class Source:
    """``push(x)`` a bar's value; ``mean(period)`` is ``math.fsum`` of the last ``period`` values / period, exactly."""

    def __cinit__(self, Py_ssize_t capacity, Py_ssize_t block=DEFAULT_BLOCK):
        self.prefix = NULL

    def __init__(self, Py_ssize_t capacity, Py_ssize_t block=DEFAULT_BLOCK):
        self._history = RingBuffer(capacity, block)
        self._buffer = np.empty(block, dtype=np.float64)
        self._held = self._buffer
        self._n = 0
        self._block = block
        self.last = NAN
        self.count = 0
        self.summed = False
        self.run = 0
        self.total = 0
        self._alloc(capacity)
        self.pos = 0
        self.squares = None

    def __dealloc__(self):
        free(self.prefix)

    cdef int _alloc(self, Py_ssize_t capacity) except -1:
        cdef uint128_t* fresh = <uint128_t*> calloc(capacity + 1, sizeof(uint128_t))
        if fresh == NULL:
            raise MemoryError()
        free(self.prefix)
        self.prefix = fresh
        self.slots = capacity + 1
        self._limit = 2.0 ** 46 / (capacity + 1)
        return 0

    @property
    def capacity(self):
        return self._history.capacity

    @property
    def history(self):
        """The series' :class:`RingBuffer`, with every value pushed so far."""
        self._drain()
        return self._history

    cdef int _drain(self) except -1:
        """Copy the values held here into the history: one array copy a block (a list's was ~150 instructions a value)."""
        if self._n:
            self._history.extend(self._buffer[:self._n])
            self._n = 0
        return 0

    def enable_sums(self):
        """Start exact prefix sums, or restart the exact path when a new indicator joins.

        ``run`` drops to 0, so for the next ``period`` bars every window uses the
        fsum fallback (same values, slower). In exchange an SMA's fast path
        needs one test, ``run >= period``, which also proves that the SMA has
        seen ``period`` values since it was created.
        """
        self.summed = True
        self.run = 0

    def enable_squares(self):
        """A companion series fed with ``x ** 2`` (backtrader's ``pow(data, 2)``), for std."""
        if self.squares is None:
            self.squares = Source(self.capacity, self._block)
        return self.squares

    cpdef push(self, double x):
        cdef double size
        cdef Py_ssize_t pos
        self.last = x
        self.count += 1
        self._held[self._n] = x
        self._n += 1
        if self._n >= self._block:
            self._drain()
        if self.summed:
            size = fabs(x)
            if (size >= TINY and size < self._limit) or x == 0.0:  # false for nan and inf
                self.total += <uint128_t> <int128_t> (x * SCALE)  # an exact integer: truncation drops nothing; wraps mod 2**128
                self.run += 1
            else:
                self.run = 0
            pos = self.pos + 1
            if pos == self.slots:
                pos = 0
            self.prefix[pos] = self.total
            self.pos = pos
        if self.squares is not None:
            self.squares.push(pow(x, TWO))  # libm's pow, as Python's float ** (and backtrader) use

    cdef inline double window_mean(self, Py_ssize_t period):
        """The exact path's mean; only valid when ``run >= period``."""
        cdef Py_ssize_t back = self.pos - period
        if back < 0:
            back += self.slots
        return (<double> <int128_t> (self.total - self.prefix[back])) / (period * SCALE)

    cpdef double mean(self, Py_ssize_t period):
        """``math.fsum(last period values) / period`` exactly; NaN while fewer values are held."""
        if self.run >= period:
            return self.window_mean(period)
        if len(self.history) < period:
            return NAN
        return math.fsum(self.history.last(period).tolist()) / period

    def grow(self, Py_ssize_t capacity):
        """Raise the capacity keeping the history; prefix sums restart (``run`` 0), so no old prefix is read."""
        if capacity <= self.capacity:
            return
        self.history.grow(capacity)
        self.run = 0
        self._alloc(capacity)
        self.pos = 0
        self.prefix[0] = self.total
        if self.squares is not None:
            self.squares.grow(capacity)
