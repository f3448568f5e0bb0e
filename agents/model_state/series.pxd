# C types for series.py (compiled when a C compiler is there; the .py runs as is otherwise).
cimport cython

cdef double NAN
cdef Py_ssize_t MIN_SPARE


@cython.final
cdef class Series:
    cdef readonly Py_ssize_t capacity
    cdef readonly long long count
    cdef readonly Py_ssize_t held
    cdef readonly double latest
    cdef readonly object store
    cdef double[::1] data
    cdef Py_ssize_t end

    @cython.locals(end=Py_ssize_t)
    cpdef void push(self, double x)
    cpdef double ago(self, Py_ssize_t k) except? -1
    @cython.locals(data=double[::1], start=Py_ssize_t, i=Py_ssize_t)
    cdef Py_ssize_t _move_to_front(self, Py_ssize_t keep)
