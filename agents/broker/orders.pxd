# C types for orders.py (Cython's pure-Python mode): the order work reads these fields on every order event.

cdef class Order:
    cdef readonly object request
    cdef public object ts
    cdef public object order_id
    cdef public object strategy
    cdef public object instrument
    cdef public object side
    cdef public bint is_buy
    cdef public object order_type
    cdef public object limit_price
    cdef public object stop_price
    cdef public object signal_price
    cdef public object invalid
    cdef public double size
    cdef public double remaining
    cdef public bint triggered
    cdef public double created_price

    cpdef double signed(self, double size)


cpdef object invalid_reason(Order order, object size)
cdef object _price_reason(str name, object value)
cdef bint _is_number(object value)
