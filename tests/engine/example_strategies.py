"""Small strategies the end-to-end tests load by module:Class, as users would."""

from strategies.api import Strategy


class BuyOnBar(Strategy):
    params = {"bar": 1}

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        self.seen += 1
        if self.seen == self.p.bar:
            self.buy(1)


class RaisesEveryTenth(Strategy):
    """Buys one share on bars 1, 11, 21..., and raises on every tenth bar."""

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        self.seen += 1
        if self.seen % 10 == 0:
            raise RuntimeError(f"deliberate failure on bar {self.seen}")
        if self.seen % 10 == 1:
            self.buy(1)


class RaisesOnEveryBar(Strategy):
    """The strategy of a user with a bug: every on_bar raises (line below: ``1 / 0``)."""

    def on_bar(self, bar, ind):
        return 1 / 0


class BadIndicatorSource(Strategy):
    """Asks for an indicator of a column that does not exist: the model state refuses it, on_bar never runs."""

    def indicators(self):
        from strategies.api import sma

        return {"sma": sma(3, source="adj_close")}

    def on_bar(self, bar, ind):
        self.buy(1)


class SellOnBar(Strategy):
    params = {"bar": 1, "size": 1.0}

    def on_start(self):
        self.seen = 0

    def on_bar(self, bar, ind):
        self.seen += 1
        if self.seen == self.p.bar:
            self.sell(self.p.size)


class SlowBars(Strategy):
    """Takes its time on every bar, so a test can kill the run while it writes."""

    params = {"seconds": 0.02}

    def on_bar(self, bar, ind):
        import time

        time.sleep(self.p.seconds)
