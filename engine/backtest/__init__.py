"""Backtests: the driver (config to results), its replay loop, staged output and the run id."""
