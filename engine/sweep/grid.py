"""Grid expansion: ``--grid key=v1,v2`` flags and TOML grids into parameter sets, data globs into files.

Values are typed here (int, float, bool, else str) so the ranked table,
the heatmap axes and parquet columns sort numerically; the strategy still
coerces each value to its parameter's declared type, as for ``--param``.
"""

from __future__ import annotations

import glob
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.data.paths import no_data_files, what_is_wrong

DATA_SUFFIXES = (".csv", ".txt", ".parquet")


def coerce_value(text: str) -> Any:
    """``"10"`` -> 10, ``"0.5"`` -> 0.5, ``"true"`` -> True, anything else stays a string."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_grid_args(pairs: Sequence[str] | None) -> dict[str, list[Any]]:
    """``["fast=5,10", "slow=30"]`` -> ``{"fast": [5, 10], "slow": [30]}``; a key given twice is an error."""
    grid: dict[str, list[Any]] = {}
    for pair in pairs or ():
        key, sep, values = pair.partition("=")
        key = key.strip()
        items = [v for v in (part.strip() for part in values.split(",")) if v]
        if not sep or not key or not items:
            raise ValueError(f"--grid expects key=v1,v2,..., got {pair!r}")
        if key in grid:
            raise ValueError(f"--grid {key} given twice")
        grid[key] = [coerce_value(v) for v in items]
    return grid


def check_grid(grid: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A grid from TOML or flags as ``{key: [values]}``: a scalar is a one-value list, duplicates are refused."""
    checked: dict[str, list[Any]] = {}
    for key, values in grid.items():
        items = list(values) if isinstance(values, list | tuple) else [values]
        if not items:
            raise ValueError(f"sweep grid {key!r} has no values")
        if len({repr(v) for v in items}) != len(items):
            raise ValueError(f"sweep grid {key!r} repeats a value: {items}")
        checked[str(key)] = items
    return checked


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every parameter set of the grid, the last key varying fastest; an empty grid is one empty set."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def expand_data(patterns: Iterable[str]) -> list[Path]:
    """Files named by paths, directories (their data files) or globs, sorted and without duplicates.

    A plain path that does not exist is kept, so its backtests become rows
    saying why; a glob matching nothing, a directory without data files and
    a path that is not a regular file (a pipe, a device) are errors now,
    before anything runs (a pipe would hang the first worker reading it).
    """
    seen: dict[Path, None] = {}
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES and not what_is_wrong(str(p)))
            if not matches:
                raise ValueError(f"--data {pattern}: {no_data_files(pattern)}")
        elif glob.has_magic(pattern) and not path.exists():
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if not what_is_wrong(p))
            if not matches:
                raise ValueError(f"--data {pattern!r} matches no file")
        else:
            why = what_is_wrong(pattern)
            if why is not None and os.path.lexists(pattern):
                raise ValueError(f"--data {pattern}: {why}")
            matches = [path]
        for match in matches:
            seen.setdefault(match, None)
    return list(seen)
