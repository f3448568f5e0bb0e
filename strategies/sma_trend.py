"""SMA trend: all in when the close is above its SMA, all out when below.

The "SMA trend" strategy of the A-share reference (shared/data/README.md):
one pending order at a time, ``int(cash / close)`` shares per entry.
"""

from strategies.api import Strategy, sma


class SmaTrend(Strategy):
    params = {"period": 15}

    def indicators(self):
        return {"sma": sma(self.p.period)}

    def on_bar(self, bar, ind):
        average = ind.sma
        if average != average or self.open_orders():  # warming up, or an order in flight
            return
        if not self.position().size:
            if bar.close > average:
                self.buy(int(self.cash / bar.close))
        elif bar.close < average:
            self.close()
