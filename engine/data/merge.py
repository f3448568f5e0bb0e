"""Merge several files' column chunks into one time-ordered stream, chunk by chunk.

Rather than a heap of single bars (a Python comparison per bar), each round
takes, from every file, the rows up to the smallest "last timestamp" among the
files' current chunks: no later chunk of any file can hold an earlier or equal
timestamp (each file strictly increases), so those rows can be ordered on
their own with one ``np.lexsort``. Ties (same ts) go by instrument name, then
by the order the files were given. Memory stays at one chunk per file.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.data.columns import PRICE_FIELDS, BarColumns


def _next_nonempty(source: Iterator[BarColumns]) -> BarColumns | None:
    for chunk in source:
        if len(chunk):
            return chunk
    return None


def merge_chunks(sources: list[Iterator[BarColumns]], on_names=None) -> Iterator[BarColumns]:
    """Merged chunks of ``sources`` (each strictly increasing in ts, one instrument each).

    ``on_names(names)`` is called once the instruments are known (after each
    source's first chunk), e.g. to refuse two files with the same instrument.
    """
    current = [_next_nonempty(s) for s in sources]
    names = [c.instrument if c is not None else None for c in current]
    if on_names is not None:
        on_names(names)
    order = sorted(range(len(sources)), key=lambda i: (names[i] is None, names[i] or "", i))
    rank = np.empty(len(sources), dtype=np.int64)
    rank[order] = np.arange(len(sources))
    name_of = np.array(names, dtype=object)
    while True:
        active = [i for i, c in enumerate(current) if c is not None]
        if not active:
            return
        bound = min(int(current[i].ts[-1]) for i in active)
        pieces: list[tuple[int, BarColumns]] = []
        for i in active:
            chunk = current[i]
            cut = int(np.searchsorted(chunk.ts, bound, side="right"))
            if cut:
                pieces.append((i, chunk.take(slice(0, cut))))
            current[i] = chunk.take(slice(cut, None)) if cut < len(chunk) else _next_nonempty(sources[i])
        if len(pieces) == 1:
            i, part = pieces[0]
            yield BarColumns(
                np.full(len(part), names[i], dtype=object), part.ts, *(getattr(part, f) for f in PRICE_FIELDS)
            )
            continue
        src = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in pieces])
        ts = np.concatenate([p.ts for _, p in pieces])
        sort = np.lexsort((rank[src], ts))
        yield BarColumns(
            name_of[src[sort]],
            ts[sort],
            *(np.concatenate([getattr(p, f) for _, p in pieces])[sort] for f in PRICE_FIELDS),
        )
