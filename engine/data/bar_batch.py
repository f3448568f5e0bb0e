"""``Bar`` messages from a chunk's columns: a backtest builds one per row of its data.

Compiled by Cython when a C compiler is there (``bar_batch.pxd``): each row's
values are read from the arrays as C numbers and the struct is built straight
away, where ``map(Bar, ts.tolist(), ...)`` made seven lists of Python objects
first.
"""

from hub.messages import Bar


def bars(instruments, ts, open_, high, low, close, volume):
    """One ``Bar`` per row; ``instruments`` is one name for every row, or a list with a name per row."""
    # Through memoryviews each item is a Python int or float, as it is compiled: never a numpy scalar.
    ts, open_, high, low, close, volume = [memoryview(column) for column in (ts, open_, high, low, close, volume)]
    n = len(ts)
    out = [None] * n
    one = isinstance(instruments, str)
    names = None if one else list(instruments)
    if names is not None and len(names) != n:
        raise ValueError(f"{len(names)} instrument names for {n} rows")
    make = Bar
    for i in range(n):
        out[i] = make(ts[i], instruments if one else names[i], open_[i], high[i], low[i], close[i], volume[i])
    return out
