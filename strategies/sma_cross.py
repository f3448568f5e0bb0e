"""SMA crossover: buy ``size`` when flat and the fast SMA crosses above the slow one, exit on the cross below.

A cross is judged like backtrader's CrossOver: against the last *non-zero*
difference, so a bar where the two averages are exactly equal neither
crosses nor hides the next cross. With exact (fsum-equal) SMAs this makes
the signal identical to backtrader's on the same data.
"""

from strategies.api import Strategy, sma


class SmaCross(Strategy):
    params = {"fast": 10, "slow": 30, "size": 100}

    def indicators(self):
        if self.p.fast >= self.p.slow:
            raise ValueError(f"sma_cross needs fast < slow, got fast={self.p.fast} slow={self.p.slow}")
        return {"fast": sma(self.p.fast), "slow": sma(self.p.slow)}

    def on_start(self):
        self._last_diff = {}

    def on_bar(self, bar, ind):
        diff = ind.fast - ind.slow
        if diff != diff:  # warming up
            return
        last = self._last_diff.get(bar.instrument, 0.0)
        if diff:
            self._last_diff[bar.instrument] = diff
        if last < 0.0 < diff:
            if not self.position().size:
                self.buy(self.p.size)
        elif diff < 0.0 < last and self.position().size > 0:
            self.close()
