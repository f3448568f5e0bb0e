from cpython.object cimport PyObject


cdef inline object field(object obj, Py_ssize_t offset):
    """The field of a message at ``offset`` (from :func:`offset_of` for exactly ``type(obj)``): a load, no lookup."""
    return <object> (<PyObject**> ((<char*> <PyObject*> obj) + offset))[0]


cpdef Py_ssize_t offset_of(object cls, str name) except -1
