# C types for engine/data/bar_batch.py, compiled by Cython when a C compiler is there.

cimport cython
from libc.stdint cimport int64_t


@cython.locals(i=Py_ssize_t, n=Py_ssize_t, out=list, one=bint, names=list)
cpdef list bars(instruments, const int64_t[:] ts, const double[:] open_, const double[:] high, const double[:] low,
                const double[:] close, const double[:] volume)
