# C types for exact_sum.py (compiled when a C compiler is there; the .py runs as is otherwise).
cimport cython


cpdef bint fits(double x, double limit) noexcept
cpdef double limit_for(Py_ssize_t period)


@cython.final
cdef class ExactSum:
    cdef double[::1] partials
    cdef public Py_ssize_t size

    cpdef void clear(self)
    @cython.locals(kept=Py_ssize_t, i=Py_ssize_t, y=double, hi=double, lo=double)
    cpdef void add(self, double x)
    @cython.locals(b=double, d=double, b_part=double, error=double)
    cpdef void slide(self, double incoming, double outgoing)
    @cython.locals(partials=double[::1], n=Py_ssize_t, hi=double, lo=double, x=double, y=double)
    cpdef double rounded(self) except? -1
    @cython.locals(old=double[::1], bigger=double[::1], i=Py_ssize_t)
    cdef void _grow(self)
