# cython: language_level=3
"""Reading a message's fields from compiled code at C speed.

msgspec stores a Struct's fields like ``__slots__``: object pointers at
fixed offsets, described by member descriptors. CPython's interpreter
specializes such reads to a load; compiled code calling ``getattr`` goes
through the generic lookup instead (~280 CPU instructions a read, callgrind),
and the per-bar handlers read a dozen fields a bar. :func:`offset_of` takes
the offset from the descriptor once; ``field(obj, offset)`` (in
``fields.pxd``) then is one load. A caller must check ``type(obj) is cls``
before using an offset taken for ``cls``.
"""

from hub.fields cimport field

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
        int flags

    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef int T_OBJECT_EX = 16  # structmember.h: an object pointer, never NULL once set (msgspec's fields)


cpdef Py_ssize_t offset_of(object cls, str name) except -1:
    """The byte offset of field ``name`` in instances of ``cls`` (a msgspec Struct, or a class with __slots__)."""
    descr = getattr(cls, name)
    if type(descr).__name__ != "member_descriptor":
        raise TypeError(f"{cls.__name__}.{name} is not a stored field ({type(descr).__name__})")
    cdef PyMemberDef* member = (<PyMemberDescrObject*> descr).d_member
    if member.type != T_OBJECT_EX:
        raise TypeError(f"{cls.__name__}.{name} is not an object field (member type {member.type})")
    return member.offset


def read_field(object obj, Py_ssize_t offset):
    """``field(obj, offset)`` for Python callers (tests): only with an offset taken for ``type(obj)``."""
    return field(obj, offset)
