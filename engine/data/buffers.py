"""A chunk of CSV bytes padded so vectorised parsers can read 8-byte words anywhere.

The number and timestamp parsers look at each field through unaligned 64-bit
little-endian words (8 characters at once). Padding both ends means a window
that starts before the first field or runs past the last one stays inside the
array, so no parser needs a bounds check.
"""

from __future__ import annotations

import numpy as np

PAD = 32


class Buffer:
    """Bytes plus a word view: ``words[i]`` holds ``data[i:i + 8]`` little-endian."""

    __slots__ = ("data", "words")

    def __init__(self, raw: bytes | bytearray | memoryview) -> None:
        data = np.zeros(len(raw) + 2 * PAD, dtype=np.uint8)
        data[PAD : PAD + len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        self.data = data
        self.words = np.ndarray(shape=(data.size - 7,), dtype="<u8", buffer=data, strides=(1,))

    def text(self, start: int, end: int) -> str:
        """One field as text (for error messages and the slow per-value path)."""
        return self.data[start:end].tobytes().decode("utf-8", "replace")
