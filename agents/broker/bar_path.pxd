from agents.broker.account cimport Account
from agents.broker.orders cimport OpenOrder


cdef class InstrumentOrders:
    cdef public list submitted
    cdef public list active
    cdef public list cancels
    cdef public bint seen


cdef class BarPath:
    cdef dict _books
    cdef Account _account
    cdef dict _open
    cdef bint _allow_short
    cdef bint _check_submit
    cdef bint _fill_on_close
    cdef object _slip
    cdef object _cap
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
    cdef process(self, InstrumentOrders book, bar)
    cdef _cancel(self, InstrumentOrders book, long long ts)
    cdef _check_submitted(self, InstrumentOrders book, bar, long long ts)
    cdef _execute_active(self, InstrumentOrders book, bar, long long ts)
    cpdef emit(self, key, msg)
    cpdef reject(self, long long ts, OpenOrder order, str reason)
    cdef _forget(self, OpenOrder order)
