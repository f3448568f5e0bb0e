from agents.broker.account cimport Account


cdef class InstrumentOrders:
    cdef public list submitted
    cdef public list active
    cdef public list cancels
    cdef public bint seen


cdef class BarPath:
    cdef dict _books
    cdef Account _account
    cdef object _process
    cdef object _publish
    cdef object _marks_key
    cdef object _account_key
    cdef object _reaches
    cdef list _stamps
    cdef list _cashes
    cdef list _equities
    cdef Py_ssize_t _every
    cdef public bint changed

    cpdef flush_marks(self)
