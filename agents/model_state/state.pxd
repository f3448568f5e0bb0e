# C types for state.py (compiled when a C compiler is there; the .py runs as is otherwise).
cimport cython

from agents.model_state.indicators cimport Indicator
from agents.model_state.series cimport Series


cdef class InstrumentState:
    cdef readonly Py_ssize_t capacity
    cdef readonly dict sources
    cdef readonly list nodes
    cdef readonly list indicators
    cdef readonly dict keys
    cdef tuple fields
    cdef tuple inputs
    cdef list values

    @cython.locals(fields=tuple, inputs=tuple, i=Py_ssize_t, series=Series, node=Indicator, value=double,
                   values=list)
    cpdef tuple update(self, bar)
