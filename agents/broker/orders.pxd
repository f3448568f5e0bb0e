cdef class OpenOrder:
    cdef public str order_id
    cdef public str strategy
    cdef public str instrument
    cdef public str side
    cdef public bint is_buy
    cdef public str order_type
    cdef public object limit_price  # float or None
    cdef public object stop_price  # float or None
    cdef public object signal_price
    cdef public object created_price
    cdef public long long ts
    cdef public double size
    cdef public double remaining
    cdef public bint triggered
    cdef public object invalid  # why the order cannot be taken (str), or None
