"""The engine: configuration, clocks, loops, lifecycle and the CLI that wires agents together."""

import hub  # noqa: F401  (first: it honours ENGINE_PURE_PYTHON before any compiled module loads)
