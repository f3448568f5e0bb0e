# C types for publisher.py (compiled when a C compiler is there; the .py runs as is otherwise).
cimport cython

from agents.model_state.state cimport InstrumentState


cdef class StatePublisher:
    cdef dict states
    cdef object new_state
    cdef object publish
    cdef object make
    cdef public tuple routes

    @cython.locals(state=InstrumentState, values=tuple)
    cpdef void on_bar(self, bar)
