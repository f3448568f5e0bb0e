# C types for account.py (Cython's pure-Python mode): the broker marks the books on every bar, and reading a
# position's floats as Python attributes was most of that cost. C doubles round exactly as Python floats do.

cimport cython


cdef class Position:
    cdef public object instrument
    cdef public double size
    cdef public double price
    cdef public double last
    cdef public double realized

    cpdef Position clone(self)
    @cython.locals(old=double, new=double)
    cpdef (double, double) split(self, double size)
    cpdef double closing_pnl(self, double closed, double price)
    @cython.locals(opened=double, closed=double, old=double)
    cpdef (double, double) apply(self, double size, double price)


cdef class Execution:
    cdef public double size
    cdef public double commission
    cdef public bint refused
    cdef public double cash_before
    cdef public double cost


cdef class Account:
    cdef public double cash
    cdef public object commission
    cdef public dict positions
    cdef public list holding

    cpdef Position position(self, str instrument)
    @cython.locals(opened=double, closed=double)
    cpdef double cash_after_submit(self, double cash, Position pos, double size, double price) except? -1.0
    @cython.locals(opened=double, closed=double, cash=double, cash_before=double, cost=double, commission=double,
                   opening_value=double, opening_fee=double, closing_fee=double, executed=double, refused=bint,
                   was_open=bint)
    cpdef Execution execute(self, Position pos, double size, double price)
    @cython.locals(value=double, dvalue=double, dunrealized=double, p=Position)
    cpdef double equity(self)
