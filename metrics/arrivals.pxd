# C types for metrics/arrivals.py, compiled by Cython when a C compiler is there.

cdef class Arrivals:
    cdef dict _at
    cdef object _current
    cdef double _current_at
    cdef list latencies_ms
