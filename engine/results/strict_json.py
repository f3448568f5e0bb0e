"""JSON files as every reader accepts them: no ``NaN`` or ``Infinity`` (Python's json writes both by default).

A figure that is not a finite number is written as ``null``, and why is
written beside it, under ``null_reasons`` (``{"final_value": "not a finite
number: inf"}``), so a null is never a silent gap.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def finite(value: Any, path: str = "", reasons: dict[str, str] | None = None) -> Any:
    """``value`` with every non-finite float replaced by None; each replacement's reason goes to ``reasons``."""
    if isinstance(value, float) and not math.isfinite(value):
        if reasons is not None:
            reasons[path] = f"not a finite number: {value!r}"
        return None
    if isinstance(value, dict):
        return {k: finite(v, f"{path}.{k}" if path else str(k), reasons) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v, f"{path}[{i}]", reasons) for i, v in enumerate(value)]
    return value


def dumps(document: dict[str, Any]) -> str:
    """Strict JSON text (indented, newline-terminated); non-finite numbers become null with ``null_reasons``."""
    reasons: dict[str, str] = {}
    clean = finite(document, "", reasons)
    if reasons:
        clean["null_reasons"] = {**clean.get("null_reasons", {}), **reasons}
    return json.dumps(clean, indent=2, allow_nan=False) + "\n"


def write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(dumps(document))
