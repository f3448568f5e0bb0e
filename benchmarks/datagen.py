"""Seeded synthetic OHLCV minute bars, written once and cached under .bench/."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CACHE = Path(".bench")


def ohlcv_file(bars: int, seed: int = 7, instrument: str = "SYN", directory: Path = CACHE) -> Path:
    """A CSV of ``bars`` one-minute bars (ISO timestamps, prices on a 0.01 grid); reused if present."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{instrument}_{bars}_{seed}.csv"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-01-01T00:00:00", "s")
    close_prev = 100.0
    chunk = 200_000
    with tmp.open("w") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        for offset in range(0, bars, chunk):
            n = min(chunk, bars - offset)
            steps = rng.integers(-5, 6, size=n) * 0.01
            close = np.round(np.maximum(close_prev + np.cumsum(steps), 1.0), 2)
            open_ = np.round(np.concatenate(([close_prev], close[:-1])), 2)
            spread = rng.integers(0, 4, size=(2, n)) * 0.01
            high = np.round(np.maximum(open_, close) + spread[0], 2)
            low = np.round(np.maximum(np.minimum(open_, close) - spread[1], 0.5), 2)
            volume = rng.integers(100, 10_000, size=n)
            stamps = np.datetime_as_string(start + np.arange(offset, offset + n), unit="s")
            rows = zip(stamps.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(), volume.tolist(), strict=True)
            out.write("".join(f"{t},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{v}\n" for t, o, h, lo, c, v in rows))
            close_prev = float(close[-1])
    tmp.rename(path)
    return path
