"""The engine: configuration, clocks, loops, lifecycle and the CLI that wires agents together."""
