"""The command line: one module per command (backtest, sweep, run), dispatched by :mod:`engine.cli.main`."""
