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


class AlwaysRaise(EveryBar):
    """Orders on its first bars, then raises on every bar: for the error policy."""

    params = {"size": 1, "good_bars": 3}

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        self.seen += 1
        if self.seen > self.p.good_bars:
            self.buy(self.p.size, limit=bar.low * 0.5)  # an order that stays open ...
            raise RuntimeError(f"bar {self.seen}")  # ... from a strategy that keeps failing
        super().on_bar(bar, ind)


class SlowBar(EveryBar):
    """Trades like EveryBar but takes ``ms`` milliseconds a bar (blocking): the slow strategy of the fault tests."""

    params = {"size": 1, "ms": 200}

    def on_bar(self, bar, ind):
        import time

        time.sleep(self.p.ms / 1000.0)
        super().on_bar(bar, ind)


class Stuck(EveryBar):
    """Never returns from its third bar: only a deadline kept outside the loop can end the stop."""

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        import time

        self.seen += 1
        if self.seen >= 3:
            while True:
                time.sleep(1)
        super().on_bar(bar, ind)
