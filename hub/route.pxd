# C types for hub/route.py, compiled by Cython when a C compiler is there.

cimport cython

cdef unsigned long long entered


cdef class Running:
    cdef public object current
    cdef public unsigned long long seq


@cython.locals(seq="unsigned long long", cell=Running)
cpdef innermost(cells)


@cython.final
cdef class Route:
    cdef public long long n
    cdef public long long due  # the next call to time, with a monitor
    cdef public object bus
    cdef public object key
    cdef public tuple entries
    cdef tuple _calls
    cdef tuple _stats
    cdef Py_ssize_t _size
    cdef bint _sampled
    cdef Running _running

    @cython.locals(running=Running, calls=tuple, stats_of=tuple, size=Py_ssize_t,
                   position=Py_ssize_t, following=Py_ssize_t, previous_seq="unsigned long long")
    cpdef deliver(self, msg)
    cdef _failed(self, Py_ssize_t position, exc, previous, unsigned long long previous_seq)


@cython.final
cdef class Publisher:
    cdef public Route route
    cdef public object key
    cdef object _resolve

    cpdef Route live(self)


@cython.final
cdef class Publish:
    cdef dict _publishers
    cdef object _make

    @cython.locals(found=Publisher)
    cpdef Route route_of(self, key)
