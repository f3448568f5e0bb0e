# cython: language_level=3, binding=False
"""The stall watchdog's polling, without the GIL: only a call that has already run ``threshold`` takes it.

A Python thread that polls every 10 ms takes the GIL from the loop's thread
100 times a second, whether anything is slow or not; on a busy 2-core
machine each hand-over cost the backtest more than the poll itself (~10%
of a replay's CPU with metrics on). Every hub handler call marks the
number of the call in its bus's ``Running`` cell (:mod:`hub.route`), and a
number only repeats while the same call runs, so this loop reads those
numbers (one aligned 64-bit load each) and sleeps, GIL released, until one
has stayed the same for ``threshold``. Then the watchdog, holding the GIL
again, names the call and follows it as before.
"""

from libc.stdlib cimport calloc, free
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, nanosleep, timespec

from hub.route cimport Running


cdef extern from *:
    """
    static inline unsigned long long load_seq(const unsigned long long *at) {
        return *(const volatile unsigned long long *)at;  /* written by the loop's thread: read it afresh */
    }
    """
    unsigned long long load_seq(const unsigned long long* at) nogil


cdef Py_ssize_t MAX_CELLS = 64  # buses one watchdog watches: a run has one or two


cdef double seconds() noexcept nogil:
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)  # time.perf_counter's clock on Linux
    return t.tv_sec + t.tv_nsec * 1e-9


cdef class StallPoll:
    """``wait(poll_s, threshold_s)``: sleep until a handler call has run ``threshold_s``, or ``stop()``."""

    cdef list _cells  # the Running cells watched: their references keep the addresses below valid
    cdef unsigned long long** _seqs  # fixed room, never moved: ``wait`` reads it while ``watch`` adds
    cdef volatile Py_ssize_t _n  # set after the address it counts is stored
    cdef volatile int _stopping

    def __cinit__(self):
        self._cells = []
        self._seqs = <unsigned long long**> calloc(MAX_CELLS, sizeof(unsigned long long*))
        if self._seqs == NULL:
            raise MemoryError()
        self._n = 0
        self._stopping = 0

    def __dealloc__(self):
        free(self._seqs)

    def watch(self, Running cell):
        """Also watch ``cell``; safe while ``wait`` runs on another thread (buses attach after the start)."""
        if any(c is cell for c in self._cells):
            return
        if self._n == MAX_CELLS:
            raise ValueError(f"a stall watchdog watches at most {MAX_CELLS} buses")
        self._cells.append(cell)
        self._seqs[self._n] = &cell.seq
        self._n += 1

    def latest(self):
        """The number of the innermost call running now on the cells watched (0: none)."""
        cdef Py_ssize_t i
        cdef unsigned long long at, seq = 0
        for i in range(self._n):
            at = load_seq(self._seqs[i])
            if at > seq:
                seq = at
        return seq

    def stop(self):
        self._stopping = 1

    def wait(self, double poll_s, double threshold_s):
        """Poll every ``poll_s``; return (first seen, call number) of a call running ``threshold_s``, or None once stopped.

        "First seen" is ``time.perf_counter`` time of the first poll that saw the call.
        """
        cdef timespec pause
        cdef Py_ssize_t i
        cdef unsigned long long seq, at, last = 0
        cdef double now, since = 0.0
        pause.tv_sec = <long> poll_s
        pause.tv_nsec = <long> ((poll_s - pause.tv_sec) * 1e9)
        with nogil:
            while True:
                nanosleep(&pause, NULL)
                if self._stopping:
                    break
                seq = 0
                for i in range(self._n):  # the innermost call is the latest one started
                    at = load_seq(self._seqs[i])
                    if at > seq:
                        seq = at
                now = seconds()
                if seq == 0 or seq != last:
                    last = seq
                    since = now
                elif now - since >= threshold_s:
                    break
        if self._stopping:
            return None
        return since, last
