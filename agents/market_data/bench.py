"""Quick measurement (not a test): parse and stream a generated 1M-row minute-bar CSV.

    .venv/bin/python -m agents.market_data.bench [rows]

Prints wall and CPU seconds for parse only (``load_columns``) and for parse +
iterating every ``Bar``, for ISO-datetime and epoch-second timestamps. The
best of three runs is shown: the machine is shared, the minimum is the signal.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

from agents.market_data import load_columns, open_stream


def generate(path: str, rows: int, epoch: bool) -> None:
    rng = np.random.default_rng(1)
    close = 100 + np.cumsum(rng.normal(0, 0.1, rows))
    open_ = close + rng.normal(0, 0.05, rows)
    high = np.maximum(open_, close) + rng.random(rows) * 0.1
    low = np.minimum(open_, close) - rng.random(rows) * 0.1
    volume = rng.integers(0, 10000, rows)
    stamps = np.datetime64("2020-01-01T00:00:00", "s") + np.arange(rows) * 60
    ts = stamps.astype(np.int64).astype(str) if epoch else stamps.astype(str)
    with open(path, "w") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        f.writelines(
            f"{t},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},{v}\n"
            for t, o, h, lo, c, v in zip(ts, open_, high, low, close, volume, strict=True)
        )


def best(fn, runs: int = 3) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        for epoch in (False, True):
            path = os.path.join(tmp, "BENCH.csv")
            generate(path, rows, epoch)
            kind = "epoch seconds" if epoch else "ISO datetimes"
            parse = best(lambda path=path: load_columns(path))
            stream = best(lambda path=path: sum(1 for _ in open_stream([path])))
            print(
                f"{rows:,} rows, {kind}: parse {parse[0]:.3f} s wall / {parse[1]:.3f} s cpu; "
                f"parse + iterate Bars {stream[0]:.3f} s wall / {stream[1]:.3f} s cpu"
            )


if __name__ == "__main__":
    main()
