"""Run configuration: one frozen tree, built from a TOML file and then CLI overrides.

Every CLI flag has a TOML equivalent; ``load_config`` refuses unknown keys so a
typo is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SAMPLE_DIR = Path(__file__).parent / "sample_data"
SAMPLE_CONFIG = SAMPLE_DIR / "sample.toml"


@dataclass(frozen=True)
class DataConfig:
    paths: tuple[str, ...] = ()
    format: str = "auto"  # auto | ohlcv | ashare
    columns: dict[str, str] = field(default_factory=dict)  # our name -> the file's column name
    instrument: str | None = None
    skip_bad: bool = False


@dataclass(frozen=True)
class StrategyConfig:
    name: str = "sma_cross"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BrokerSettings:
    cash: float = 100_000.0
    commission: float = 0.0  # fraction of traded value, both sides
    commission_per_share: float = 0.0
    min_commission: float = 0.0
    slippage_perc: float = 0.0
    slippage_fixed: float = 0.0
    fill_on_close: bool = False
    check_submit: bool = True
    volume_cap: float | None = None
    allow_short: bool = True


@dataclass(frozen=True)
class MetricsConfig:
    statsd: str | None = None  # HOST:PORT; off when None
    prefix: str = "engine"
    slow_callback_ms: float = 50.0


@dataclass(frozen=True)
class OutputConfig:
    dir: str | None = None  # default results/<run-id>


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    log_level: str = "warning"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {"data": DataConfig, "strategy": StrategyConfig, "broker": BrokerSettings,
             "metrics": MetricsConfig, "output": OutputConfig}


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ValueError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        section = _SECTIONS.get(key) if cls is Config else None
        if section is not None:
            if not isinstance(value, dict):
                raise ValueError(f"{where}: [{key}] must be a table")
            values[key] = _build(section, value, f"{where} [{key}]")
        elif key == "paths":
            values[key] = tuple([value] if isinstance(value, str) else value)
        else:
            values[key] = value
    return cls(**values)


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config (or the defaults when ``path`` is None). Relative data paths are resolved against the file."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    config = _build(Config, table, str(path))
    resolved = tuple(p if Path(p).is_absolute() else str(path.parent / p) for p in config.data.paths)
    return replace(config, data=replace(config.data, paths=resolved))


def override(config: Config, section: str, **changes: Any) -> Config:
    """Apply the CLI flags that were given (None means not given)."""
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        return config
    return replace(config, **{section: replace(getattr(config, section), **given)})
