"""Strategies for the daemon tests and benchmark (importable as ``tests.engine.daemon.strategies:Name``)."""

from strategies.api import Strategy


class EveryBar(Strategy):
    """Buys when flat, sells when long, on every bar: an order per bar, for latency and fault tests."""

    params = {"size": 1}

    def on_bar(self, bar, ind):
        if self.position().size > 0:
            self.sell(self.p.size)
        else:
            self.buy(self.p.size)


class RaiseEveryTenth(EveryBar):
    """Trades like EveryBar but raises on every tenth bar."""

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        self.seen += 1
        if self.seen % 10 == 0:
            raise RuntimeError(f"tenth bar {self.seen}")
        super().on_bar(bar, ind)
