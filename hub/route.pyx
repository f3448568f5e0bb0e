# cython: language_level=3, binding=False
"""The bus's delivery, compiled: a published key's handlers, called in order, each one guarded.

A route was a generated Python function, one frame a publish; entered from
compiled handlers (the model state publishing MarketState, the broker's
fills) that frame was ~2k CPU instructions a bar, a sixth of a backtest.
Here a publish is one C loop. What it must keep, and does (see
:mod:`hub.bus` for the why of each):

* a handler's exception is reported (logged, counted, published) and the
  next handler still runs; a BaseException marks the handlers after it as
  never delivered and propagates;
* the route counts its calls once, before its first handler, for
  ``SubscriptionStats.handled``;
* a call keeps the route it started with, whatever subscription changes a
  handler makes;
* with a monitor, one call in ``sample_every`` is timed handler by handler;
* what handler runs now is readable from another thread (the stall
  watchdog): each call marks its subscription in the bus's :class:`Running`.
"""

from cpython.exc cimport PyErr_Fetch, PyErr_NormalizeException
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF
from cpython.tuple cimport PyTuple_GET_ITEM

from time import perf_counter as perf

cdef extern from "Python.h":
    # NULL with an exception set when the callable raised: tested by hand, because a Cython
    # try/except saves and restores the thread's exception state on entry (~120 instructions a bar).
    PyObject* PyObject_CallOneArg(object callable, object arg)
    PyObject* PyObject_CallFunctionObjArgs(object callable, ...)
    int PyException_SetTraceback(PyObject* exc, PyObject* tb)

cdef unsigned long long entered = 0  # numbers handler calls process-wide, so buses nested on one thread order


cdef class Running:
    """The innermost hub handler call running now on one bus: its subscription, or None.

    Written by the loop's thread around every handler call, read by a
    watchdog thread. ``seq`` grows with every call that starts, so of several
    buses nested on one thread (a handler of one publishing on another) the
    call with the highest ``seq`` is the innermost.
    """


    def __init__(self):
        self.current = None
        self.seq = 0


def innermost(cells):
    """The subscription of the innermost handler call running on any of ``cells`` (:class:`Running`), or None."""
    best = None
    cdef unsigned long long seq = 0
    cdef Running cell
    for found in cells:
        cell = <Running> found
        current, at = cell.current, cell.seq  # read together: the loop thread cannot run in between
        if current is not None and (best is None or at > seq):
            best, seq = current, at
    return best


cdef class Route:
    """The handlers one published key reaches, as resolved at one time, and how many publishes it made.

    ``entries`` are (callable, stats, raw) in delivery order; a raw callback
    (observer, inbox) is called with ``(key, msg)``, a handler with ``msg``.
    """


    def __init__(self, bus, key, tuple entries, Running running, bint sampled, long long every):
        self.n = 0
        self.due = every
        self.bus = bus
        self.key = key
        self.entries = entries
        self._calls = tuple([e[0] for e in entries])
        self._stats = tuple([e[1] for e in entries])
        self._raw = tuple([bool(e[2]) for e in entries])
        self._size = len(entries)
        self._sampled = sampled
        self._running = running
        for _, stats, _ in entries:
            base, routes = stats._counts
            stats._counts = (base, (*routes, self))

    def deliver(self, msg):
        """Deliver ``msg`` to every entry (the Python entry point of :meth:`call`)."""
        self.call(msg)

    cdef call(self, msg):
        global entered
        cdef Py_ssize_t i
        cdef Running running = self._running
        cdef tuple calls = self._calls
        cdef tuple stats_of = self._stats
        cdef tuple raw = self._raw
        self.n += 1
        if self._sampled and self.n == self.due:  # an int comparison: cheaper than a mask or a modulo
            self.deliver_timed(msg)
            return
        cdef PyObject* result
        previous = running.current
        cdef unsigned long long previous_seq = running.seq
        for i in range(self._size):
            stats = <object> PyTuple_GET_ITEM(stats_of, i)
            handler = <object> PyTuple_GET_ITEM(calls, i)
            entered += 1
            running.current = stats
            running.seq = entered
            if <object> PyTuple_GET_ITEM(raw, i) is True:
                result = PyObject_CallFunctionObjArgs(handler, <PyObject*> self.key, <PyObject*> msg, NULL)
            else:
                result = PyObject_CallOneArg(handler, msg)
            if result != NULL:
                Py_XDECREF(result)
            else:
                self._failed(i, stats, previous, previous_seq)  # returns only when the call goes on
        running.current = previous
        running.seq = previous_seq

    cdef int _failed(self, Py_ssize_t position, stats, previous, unsigned long long previous_seq) except -1:
        """Handler ``position`` raised (the exception is set): report an Exception and go on; anything else propagates.

        For a BaseException (KeyboardInterrupt...), or one raised while
        reporting, the running mark goes back to ``previous``, the handlers
        after ``position`` are taken back off, and the exception propagates.
        """
        cdef PyObject* kind = NULL
        cdef PyObject* value = NULL
        cdef PyObject* tb = NULL
        PyErr_Fetch(&kind, &value, &tb)  # new references, and no exception set while we work
        PyErr_NormalizeException(&kind, &value, &tb)
        if tb != NULL:
            PyException_SetTraceback(value, tb)
        exc = <object> value
        Py_XDECREF(kind)
        Py_XDECREF(value)
        Py_XDECREF(tb)
        try:
            if not isinstance(exc, Exception):
                raise exc
            self.report(stats, exc)
        except BaseException:
            self._running.current = previous
            self._running.seq = previous_seq
            self.undelivered(position)
            raise
        return 0

    def deliver_timed(self, msg):
        """One sampled call: each handler timed and named by ``monitor.current`` while it runs; raw callbacks are not."""
        global entered
        monitor = self.bus._sampler
        assert monitor is not None
        self.due += self.bus._every
        done = monitor.handler_done
        key = self.key
        running = self._running
        previous, previous_seq = running.current, running.seq
        try:
            for position, (call, stats, raw) in enumerate(self.entries):
                entered += 1
                running.current = stats
                running.seq = entered
                try:
                    if raw:
                        try:
                            call(key, msg)
                        except Exception as exc:
                            self.report(stats, exc)
                        continue
                    outer = monitor.current
                    monitor.current = stats
                    t0 = perf()
                    try:
                        call(msg)
                    except Exception as exc:
                        self.report(stats, exc)
                    finally:
                        monitor.current = outer
                        done(stats, perf() - t0)
                except BaseException:
                    self.undelivered(position)
                    raise
        finally:
            running.current = previous
            running.seq = previous_seq

    def fold(self):
        """The route is dropped and will not be called again: its count moves into its members' bases."""
        n = self.n
        for _, stats, _ in self.entries:
            base, routes = stats._counts
            i = routes.index(self)
            stats._counts = (base + n, routes[:i] + routes[i + 1:])

    def undelivered(self, Py_ssize_t position):
        """A BaseException left the call at ``position``: the handlers after it were counted but never called."""
        for _, stats, _ in self.entries[position + 1:]:
            base, routes = stats._counts
            stats._counts = (base - 1, routes)

    def report(self, stats, exc):
        self.bus._report(stats, self.key, exc)


cdef class Publisher:
    """One key's publisher for the bus's life: ``deliver(msg)`` runs the key's current route.

    ``route`` is None while stale (never resolved, or dropped by a
    subscription change): the next call resolves the key again through
    ``resolve(key)``, which sets ``route``.
    """


    def __init__(self, key, resolve):
        self.route = None
        self.key = key
        self._resolve = resolve

    def deliver(self, msg):
        """Publish ``msg`` on this publisher's key."""
        self.live().call(msg)

    cdef Route live(self):
        """The route a call takes now: resolved again if stale."""
        cdef Route route = self.route
        if route is None:
            route = self._resolve(self.key)
        return route


cdef class Publish:
    """``bus.publish(key, msg)`` and ``bus.reaches(key)``, compiled: the key's :class:`Publisher` found by key, then its route.

    As a Python function the lookup and the extra frame cost ~800 CPU
    instructions a publish, as much as the delivery itself.
    """


    def __init__(self, dict publishers, make):
        self._publishers = publishers
        self._make = make  # make(key): the key's Publisher, created and kept on first use

    def publish(self, key, msg):
        """Publish ``msg`` on ``key``."""
        self.route_of(key).call(msg)

    def reaches(self, key):
        """True when publishing ``key`` now would call anything (see ``Bus.reaches``)."""
        return len(self.route_of(key).entries) > 0

    cdef Route route_of(self, key):
        found = self._publishers.get(key)
        if found is None:
            found = self._make(key)
        return (<Publisher> found).live()
