cdef class Position:
    cdef public str instrument
    cdef public double size
    cdef public double price
    cdef public double realized
    cdef public double last

    cpdef Position clone(self)
    cdef void apply(self, double size, double price, double* opened, double* closed)


cdef class Execution:
    cdef public double size
    cdef public double commission
    cdef public double pnl
    cdef public bint refused
    cdef public double cash_before
    cdef public double cost


cdef class Account:
    cdef public double cash
    cdef public object commission
    cdef public dict positions
    cdef public list holding

    cpdef refresh_holding(self)
    cpdef double pseudo_execute(self, double cash, Position pos, double size, double price) except? -1.0
    cpdef Execution execute(self, Position pos, double size, double price)
    cpdef double equity(self)
