"""The compiled routes' declarations, for modules that cimport them (the stall watchdog's poll)."""

cdef class Running:
    cdef public object current
    cdef public unsigned long long seq


cdef class Route:
    cdef public long long n
    cdef public long long due  # the next call to time, with a monitor
    cdef public object bus
    cdef public object key
    cdef public tuple entries
    cdef tuple _calls
    cdef tuple _stats
    cdef tuple _raw
    cdef Py_ssize_t _size
    cdef bint _sampled
    cdef Running _running

    cdef call(self, msg)
    cdef int _failed(self, Py_ssize_t position, stats, previous, unsigned long long previous_seq) except -1


cdef class Publisher:
    cdef public Route route
    cdef public object key
    cdef object _resolve

    cdef Route live(self)


cdef class Publish:
    cdef dict _publishers
    cdef object _make

    cdef Route route_of(self, key)

