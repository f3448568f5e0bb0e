# C types for marks.py (Cython's pure-Python mode): a mark is added on every bar.

cdef class Marks:
    cdef public object publish
    cdef public object key
    cdef public Py_ssize_t every
    cdef public list stamps
    cdef public list cash
    cdef public list equity

    cpdef add(self, ts, double cash, double equity)
    cpdef flush(self)
