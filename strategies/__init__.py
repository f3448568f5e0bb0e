"""Strategies shipped by name; anything else is given as ``module:Class``."""

import importlib

import hub  # noqa: F401  (first: it honours ENGINE_PURE_PYTHON before any compiled module loads)

BUILTIN = {
    "sma_cross": "strategies.sma_cross:SmaCross",
    "sma_trend": "strategies.sma_trend:SmaTrend",
}


def load_strategy(name: str) -> type:
    """Resolve a built-in name or ``package.module:Class`` to the strategy class."""
    target = BUILTIN.get(name, name)
    if ":" not in target:
        known = ", ".join(sorted(BUILTIN))
        raise ValueError(f"unknown strategy {name!r}: use one of {known} or module:Class")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import strategy module {module_name!r}: {exc}") from exc
    try:
        found = getattr(module, class_name)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no class {class_name!r}") from None
    from strategies.api import Strategy

    if not (isinstance(found, type) and issubclass(found, Strategy)):
        raise ValueError(f"{target!r} is not a strategy: {found!r} is not a subclass of strategies.api.Strategy")
    return found
