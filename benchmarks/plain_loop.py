"""The yardstick: the same SMA(10/30) crossover as a bare Python loop over lists.

Buy ``size`` on an up-cross when flat, sell all on a down-cross, fill at the
next bar's open: what `sma_cross` does, without hub, agents or messages.
"""

from __future__ import annotations


def crossover_loop(opens: list[float], closes: list[float], fast: int = 10, slow: int = 30, size: int = 100) -> tuple[int, float]:
    cash = 1_000_000.0
    position = 0
    sum_fast = sum_slow = 0.0
    last_diff = 0.0
    pending = 0  # +size to buy / -position to sell at the next open
    trades = 0
    for i, close in enumerate(closes):
        if pending:
            cash -= pending * opens[i]
            position += pending
            pending = 0
            trades += 1
        sum_fast += close
        sum_slow += close
        if i >= fast:
            sum_fast -= closes[i - fast]
        if i >= slow:
            sum_slow -= closes[i - slow]
        if i + 1 < slow:
            continue
        diff = sum_fast / fast - sum_slow / slow
        if last_diff < 0.0 < diff and not position:
            pending = size
        elif diff < 0.0 < last_diff and position > 0:
            pending = -position
        if diff:
            last_diff = diff
    return trades, cash + position * closes[-1]
