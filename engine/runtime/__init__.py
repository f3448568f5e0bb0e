"""What every run mode stands on: clocks, event loops, the real-time ticker, logging, helper processes, metrics wiring."""
