"""The engine: configuration, clocks, loops, lifecycle and the CLI that wires agents together.

``engine.backtest(strategy=..., data=..., ...)`` is the notebook entry point
(see engine/backtest/__init__.py); it is imported on first use, so
``import engine`` stays light.
"""

import importlib
from typing import Any

import hub  # noqa: F401  (first: it honours ENGINE_PURE_PYTHON before any compiled module loads)


def __getattr__(name: str) -> Any:
    if name == "backtest":
        return importlib.import_module("engine.backtest")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
