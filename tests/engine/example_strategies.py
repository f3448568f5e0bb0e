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
