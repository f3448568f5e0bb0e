# C types for indicators.py (compiled when a C compiler is there; the .py runs as is otherwise).
cimport cython

from agents.model_state.exact_sum cimport ExactSum, fits, limit_for
from agents.model_state.series cimport Series

cdef double NAN
cdef double INF
cdef double TWO
cdef double HALF

cpdef double square(double x) noexcept


cdef class Indicator:
    cdef public Py_ssize_t warmup
    cdef public double value
    cdef public Series output

    cpdef double update(self) except? -1


cdef class Smoother:
    cdef readonly Py_ssize_t period
    cdef readonly double alpha
    cdef readonly double alpha1
    cdef readonly double value
    cdef list seed

    cpdef double push(self, double x) except? -1


cdef class Sma(Indicator):
    cdef readonly Series src
    cdef readonly Py_ssize_t period
    cdef readonly double limit
    cdef readonly ExactSum sum
    cdef readonly Py_ssize_t run
    cdef readonly long long seen

    @cython.locals(x=double)
    cpdef double update(self) except? -1


cdef class Ema(Indicator):
    cdef readonly Series src
    cdef Smoother smoother

    cpdef double update(self) except? -1


cdef class Square(Indicator):
    cdef readonly Series src

    cpdef double update(self) except? -1


cdef class Std(Indicator):
    cdef readonly Sma mean
    cdef readonly Sma mean_of_squares

    cpdef double update(self) except? -1


cdef class Rsi(Indicator):
    cdef readonly Series src
    cdef bint started
    cdef double prev
    cdef Smoother up
    cdef Smoother down

    @cython.locals(x=double, prev=double, d=double, up=double, down=double, maup=double, madown=double)
    cpdef double update(self) except? -1


cdef class Atr(Indicator):
    cdef readonly Series high
    cdef readonly Series low
    cdef readonly Series close
    cdef bint started
    cdef double prev_close
    cdef Smoother smoother

    @cython.locals(pc=double, h=double, lo=double, th=double, tl=double)
    cpdef double update(self) except? -1
