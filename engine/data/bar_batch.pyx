# cython: language_level=3, boundscheck=False, wraparound=False, binding=False
"""``Bar`` messages from a chunk's columns, compiled: a backtest builds one per row of its data.

``map(Bar, ts.tolist(), ...)`` cost ~540 ns a bar (seven lists of Python
objects, then a call per bar through ``map``): half a second per million
rows on the end-to-end path. Here each row's values are read from the
arrays and the struct is built straight away.
"""

from libc.stdint cimport int64_t

from hub.messages import Bar


def bars(instruments, const int64_t[:] ts, const double[:] open_, const double[:] high, const double[:] low,
         const double[:] close, const double[:] volume):
    """One ``Bar`` per row; ``instruments`` is one name for every row, or a list with a name per row."""
    cdef Py_ssize_t i, n = ts.shape[0]
    cdef list out = [None] * n
    cdef bint one = isinstance(instruments, str)
    cdef list names = None if one else list(instruments)
    if names is not None and len(names) != n:
        raise ValueError(f"{len(names)} instrument names for {n} rows")
    make = Bar
    for i in range(n):
        out[i] = make(ts[i], instruments if one else names[i], open_[i], high[i], low[i], close[i], volume[i])
    return out
