"""Backtest outputs: the recorder that writes them and the summary figures."""
