# C types for context.py (Cython's pure-Python mode): the context's state in typed slots, so the per-bar
# handler and the strategy's calls read it without dictionary lookups. The .py file is the source of truth.

cdef class HostContext:
    cdef public str name
    cdef public object now
    cdef public str instrument
    cdef public dict bars
    cdef public dict restored_closes
    cdef public double balance
    cdef public dict positions
    cdef public dict open
    cdef public long long seq
    cdef public list outbox
    cdef public object answer
    cdef object _submit
    cdef object _cancel
    cdef object _query
    cdef object _strategy
    cdef object _on_bar
    cdef object _ind

    cpdef flush(self)
