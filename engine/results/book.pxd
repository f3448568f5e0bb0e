# C types for engine/results/book.py, compiled by Cython when a C compiler is there.

cimport cython


cdef class Batches:
    cdef object _write
    cdef Py_ssize_t _batch
    cdef list _rows

    cpdef add(self, list row)
    cpdef flush(self)


cdef class MarkBuffer:
    cdef public object ts_array
    cdef public object cash_array
    cdef public object equity_array
    cdef public Py_ssize_t held
    cdef long long[::1] _ts
    cdef double[::1] _cash
    cdef double[::1] _equity
    cdef Py_ssize_t _chunk
    cdef Py_ssize_t _capacity

    cdef _grow(self, Py_ssize_t capacity)
    @cython.locals(k=Py_ssize_t, n=Py_ssize_t, i=Py_ssize_t)
    cpdef extend(self, tuple stamps, tuple cash, tuple equity)


cdef class Book:
    cdef public dict open
    cdef public dict reject_reasons
    cdef public long long fills
    cdef public long long orders_submitted
    cdef public long long orders_rejected
    cdef public long long orders_canceled
    cdef public double commission
    cdef Batches _fills
    cdef Batches _orders
    cdef MarkBuffer _equity

    cpdef close_order(self, order_id, ts, str status, str reason)
    cpdef write_order(self, dict order, str status, ts, str reason)
