"""A run id derived from what decides the results, so a rerun is recognisable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine.config import Config


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_run_id(config: Config, files: list[str]) -> str:
    """``<strategy>-<12 hex>`` over the result-deciding config and the data files' contents."""
    decisive = config.as_dict()
    for irrelevant in ("output", "metrics", "log_level", "sweep", "daemon"):
        decisive.pop(irrelevant)
    decisive["data"].pop("paths")
    payload = json.dumps({"config": decisive, "data": [file_digest(f) for f in files]}, sort_keys=True, default=str)
    name = config.strategy.name.rsplit(":", 1)[-1].lower()
    return f"{name}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"
