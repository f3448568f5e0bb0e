"""Agents: coroutines and handlers that talk only through the hub's typed messages."""

import hub  # noqa: F401  (first: it honours ENGINE_PURE_PYTHON before any compiled module loads)
