cdef extern from *:
    """
    typedef __int128 int128_t;
    typedef unsigned __int128 uint128_t;
    """
    # Cython only needs to know these are integers; the C compiler sees gcc's 128-bit types.
    ctypedef long long int128_t
    ctypedef unsigned long long uint128_t


cdef class Source:
    cdef object _history
    cdef object _buffer  # this series' values not yet in the history: a float64 array of ``block``
    cdef double[::1] _held
    cdef Py_ssize_t _n
    cdef Py_ssize_t _block
    cdef public double last
    cdef public long long count
    cdef public bint summed
    cdef public long long run
    cdef uint128_t total  # sum of the scaled values since sums began, mod 2**128
    cdef uint128_t* prefix  # prefix[pos] == total; prefix[pos - p]: total p values ago (a ring of ``slots``)
    cdef Py_ssize_t slots
    cdef Py_ssize_t pos
    cdef double _limit
    cdef public Source squares

    cdef int _alloc(self, Py_ssize_t capacity) except -1
    cdef int _drain(self) except -1
    cpdef push(self, double x)
    cdef double window_mean(self, Py_ssize_t period)
    cpdef double mean(self, Py_ssize_t period)
