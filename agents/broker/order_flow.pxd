# C types for order_flow.py (Cython's pure-Python mode): the broker's bar handler runs on every bar.

cimport cython

from agents.broker.account cimport Account, Execution, Position
from agents.broker.marks cimport Marks
from agents.broker.orders cimport Order


cdef class InstrumentOrders:
    cdef public bint seen
    cdef public Position position
    cdef public list submitted
    cdef public list active
    cdef public list cancels


cdef class OrderFlow:
    cdef public Account account
    cdef public Marks marks
    cdef object publish
    cdef object reaches
    cdef object slippage
    cdef bint fill_on_close
    cdef bint check_submit
    cdef object volume_cap
    cdef bint allow_short
    cdef public dict books
    cdef public dict open
    cdef public Py_ssize_t ignored_cancels
    cdef public bint changed
    cdef public object halted

    @cython.locals(order=Order)
    cpdef on_submit(self, msg)
    @cython.locals(book=InstrumentOrders)
    cpdef on_bar(self, bar)
    @cython.locals(order=Order)
    cdef _cancels(self, InstrumentOrders book, ts)
    @cython.locals(order=Order, clone=Position, account=Account, cash=double, before=double, signed=double)
    cdef _submit_checks(self, InstrumentOrders book, ts)
    @cython.locals(order=Order, pos=Position, execution=Execution, account=Account, size=double, signed=double)
    cdef _fills(self, InstrumentOrders book, bar, ts)
    @cython.locals(pos=Position, account=Account, cash=double, equity=double)
    cdef _mark(self, InstrumentOrders book, bar, ts)
    cpdef InstrumentOrders book(self, instrument, bint seen)
    cdef _emit(self, key, msg)
    cpdef _reject(self, ts, Order order, str reason)
    cdef _forget(self, Order order)
