"""What a run needs to be reproduced: the engine version, the strategy's source hash, the data files' hashes."""

from __future__ import annotations

import hashlib
import inspect
import sys
from importlib import metadata
from pathlib import Path


def engine_version() -> str:
    try:
        return metadata.version("engine")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def strategy_source(strategy: type) -> tuple[str | None, str]:
    """(sha256 of the source of the strategy's module, where it came from); (None, why) when there is none.

    The whole module, not just the class: helpers beside it decide the
    trades too. A class defined in a notebook cell has no file: its own
    source is hashed when Python can find it.
    """
    module = sys.modules.get(strategy.__module__)
    path = getattr(module, "__file__", None) if module is not None else None
    if path and Path(path).suffix == ".py" and Path(path).is_file():
        return hashlib.sha256(Path(path).read_bytes()).hexdigest(), f"{strategy.__module__} ({Path(path).name})"
    try:
        text = inspect.getsource(strategy)
    except (OSError, TypeError) as exc:
        return None, f"no source for {strategy.__module__}.{strategy.__qualname__}: {exc}"
    return hashlib.sha256(text.encode()).hexdigest(), f"{strategy.__module__}.{strategy.__qualname__} (class source)"
