"""A run id derived from what decides the results, so a rerun is recognisable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from engine.config import Config


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Identity:
    """The run id and what it was made of: the data files' hashes and the strategy source's."""

    run_id: str
    data_sha256: list[str]
    strategy_sha256: str | None
    strategy_source: str  # where the hashed source came from, or why there is none


def run_identity(config: Config, files: list[str]) -> Identity:
    """``<strategy>-<12 hex>`` over the result-deciding config, the data files' contents and the strategy's source.

    The source is in it so that editing a strategy gives a new run folder
    instead of overwriting the results of the code as it was.
    """
    from engine.results.provenance import strategy_source
    from strategies import load_strategy

    decisive = config.as_dict()
    for irrelevant in ("output", "metrics", "log_level", "sweep", "daemon"):
        decisive.pop(irrelevant)
    decisive["data"].pop("paths")
    digests = [file_digest(f) for f in files]
    source, origin = strategy_source(load_strategy(config.strategy.name))
    payload = json.dumps({"config": decisive, "data": digests, "strategy_source": source}, sort_keys=True, default=str)
    name = config.strategy.name.rsplit(":", 1)[-1].lower()
    return Identity(f"{name}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}", digests, source, origin)


def make_run_id(config: Config, files: list[str]) -> str:
    return run_identity(config, files).run_id
