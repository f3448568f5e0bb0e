cdef class Kernel:
    cdef tuple _fields  # bar attribute names, one per source
    cdef tuple _offsets  # their offsets in a Bar (hub.fields)
    cdef tuple _sources
    cdef tuple _updates  # each indicator's bound update()
    cdef tuple _sma_sources  # the Source an SMA reads, else None
    cdef tuple _periods

    cdef tuple compute(self, bar)
