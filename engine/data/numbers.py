"""Vectorised ASCII decimal parsing: the reason a million rows parse in well under a second.

numpy's own string-to-float conversion costs ~170 ns a value; this parser works
on 8 characters at a time held in one uint64 (SWAR), so a field costs a few
whole-array integer operations. It handles the common shapes, ``[+-]digits[.digits]``
with at most 19 characters, exactly: the digits form an integer mantissa below
2**53 and one IEEE division by an exact power of ten gives the correctly rounded
double, the same bits as ``float(text)``. Anything else (exponents, more
digits, spaces, garbage) is flagged and the caller parses just those values
one by one with Python, so the result never depends on which path ran.
"""

from __future__ import annotations

import numpy as np

from engine.data.buffers import Buffer

U = np.uint64
_ZEROS = U(0x3030303030303030)
_ABOVE_NINE = U(0x4646464646464646)  # byte + 0x46 sets bit 7 iff byte > '9' (for ASCII bytes)
_HIGH_BITS = U(0x8080808080808080)
_SEVEN_F = U(0x7F7F7F7F7F7F7F7F)
_DOTS = U(0x2E2E2E2E2E2E2E2E)
_MASK = U(0x000000FF000000FF)
_MUL1 = U(100 + (1000000 << 32))
_MUL2 = U(1 + (10000 << 32))
# _LOW[k]: the k lowest bytes of a word (the characters before a field's start).
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_POW10_U = np.array([10**k for k in range(20)], dtype=np.uint64)
_POW10_F = np.array([10.0**k for k in range(23)], dtype=np.float64)
_EXACT = U(2**53)
MAX_FAST_WIDTH = 19
for _table in (_LOW, _POW10_U, _POW10_F):
    _table.flags.writeable = False  # shared lookup tables: no module state can change


def parse_decimal(buf: Buffer, start: np.ndarray, end: np.ndarray):
    """Fields ``buf[start:end]`` as ``(mantissa, frac_digits, negative, dotted, ok)``.

    ``value = (-1 if negative else 1) * mantissa / 10**frac_digits`` where ``ok``;
    rows that are not ``ok`` (garbage in the other outputs) need the slow path.
    ``dotted`` marks a decimal point. A leading '+' takes the slow path.

    Each field is read as up to three words ending at ``end``; in a word, byte 0
    is the earliest character. Bytes before the field become '0' (a leading
    zero changes nothing) and the '.' becomes '0' too, which leaves the
    digits' integer times 10 above the point; one divmod takes that zero out.
    """
    negative = buf.data[start] == 45
    start = start + negative
    width = end - start
    ok = (width >= 1) & (width <= MAX_FAST_WIDTH)
    nwords = min((int(width.max()) + 7) // 8, 3) if width.size else 0
    total = np.zeros(start.size, dtype=np.uint64)
    frac = np.zeros(start.size, dtype=np.int64)
    ndots = np.zeros(start.size, dtype=np.uint8)
    invalid = np.zeros(start.size, dtype=np.uint64)
    for k in range(nwords):
        x = buf.words[end - (8 * k + 8)]
        before = np.clip((8 * k + 8) - width, 0, 8)
        if k or before.any():
            x ^= (x ^ _ZEROS) & _LOW[before]
        t = x ^ _DOTS
        dots = ~(((t & _SEVEN_F) + _SEVEN_F) | t | _SEVEN_F)  # 0x80 in each '.' byte, exactly
        if dots.any():
            ndots += np.bitwise_count(dots)
            # bytes after a single dot at byte p: popcount(~(dots - 1)) = 57 - 8p -> >> 3 == 7 - p; 0 without a dot
            after = (np.bitwise_count(~(dots - U(1))) >> 3).astype(np.int64)
            frac += after + (8 * k) * (dots != 0) if k else after
            x += dots >> U(6)  # '.' + 2 == '0'
        d = x - _ZEROS
        # a byte outside '0'..'9' sets bit 7 somewhere: itself (>= 0x80), in x + 0x46 (> '9') or in d (< '0')
        invalid |= (x | (x + _ABOVE_NINE) | d) & _HIGH_BITS
        d = d * U(10) + (d >> U(8))
        value = ((d & _MASK) * _MUL1 + ((d >> U(16)) & _MASK) * _MUL2) >> U(32)
        if k:
            total += value * _POW10_U[8 * k]
        else:
            total = value
    ok &= (invalid == 0) & (ndots <= 1) & (width > ndots)
    dotted = ndots == 1
    if dotted.any():
        np.minimum(frac, MAX_FAST_WIDTH - 1, out=frac)  # only rows that are not ok go higher
        high, low = np.divmod(total, _POW10_U[frac + dotted])  # split at the zero that replaced the point
        mantissa = high * _POW10_U[frac] + low
    else:
        mantissa = total
    return mantissa, frac, negative, dotted, ok


def _slow_float(text: str) -> float:
    if "_" in text or not text.isascii():  # float() accepts '1_000' and '١٢'; a data file should not
        raise ValueError(text)
    return float(text)


def parse_floats(buf: Buffer, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fields as float64 and the indices of fields that are not numbers at all.

    Non-finite spellings (``nan``, ``inf``) parse here; the bar checks reject them
    with their own message.
    """
    mantissa, frac, negative, _, ok = parse_decimal(buf, start, end)
    ok &= mantissa < _EXACT
    values = mantissa.astype(np.float64) / _POW10_F[frac]
    np.negative(values, out=values, where=negative)
    bad = []
    for i in np.flatnonzero(~ok).tolist():
        try:
            values[i] = _slow_float(buf.text(int(start[i]), int(end[i])))
        except ValueError:
            bad.append(i)
    return values, np.array(bad, dtype=np.int64)


def parse_integers(buf: Buffer, start: np.ndarray, end: np.ndarray):
    """Fields as int64 where they are plain integers; ``ok`` is False elsewhere."""
    mantissa, _, negative, dotted, ok = parse_decimal(buf, start, end)
    ok &= ~dotted & (mantissa < U(2**63))
    values = mantissa.astype(np.int64)
    np.negative(values, out=values, where=negative)
    return values, ok
