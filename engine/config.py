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

import msgspec

from agents.broker.settings import BrokerSettings  # the [broker] table is the broker's own settings type

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
class MetricsConfig:
    statsd: str | None = None  # HOST:PORT; off when None
    prefix: str = "engine"
    slow_callback_ms: float = 50.0


@dataclass(frozen=True)
class OutputConfig:
    dir: str | None = None  # default results/<run-id>


@dataclass(frozen=True)
class SweepConfig:
    """``python -m engine sweep``: the grid and how to run it. Data, strategy and broker come from their own tables."""

    grid: dict[str, list[Any]] = field(default_factory=dict)  # param -> values; cells = instruments x product
    workers: int | None = None  # local processes; None = every core
    dask: str | None = None  # scheduler address; None = $DASK_SCHEDULER_ADDRESS, else local
    cache_dir: str | None = None  # parsed-columns cache; None = $XDG_CACHE_HOME/engine/columns
    metric: str = "total_return"  # ranking: total_return, sharpe, final_value, max_drawdown (lower is better)
    top: int = 10  # rows of the printed overall ranking
    bundle: int = 0  # backtests per Dask task; 0 = sized from the data
    retries: int = 2  # Dask retries per task; local: worker deaths a backtest may cause
    fail_fast: bool = False  # stop at the first failed backtest and exit non-zero
    quiet: bool = False  # no progress bar
    keep_runs: bool = False  # keep each backtest's fills/orders/equity under OUT/runs/<run-id>/


@dataclass(frozen=True)
class DaemonConfig:
    """``python -m engine run``: the long-lived daemon. Every ``run`` flag has its key here."""

    feed: str | None = None  # tcp://HOST:PORT of a live NDJSON feed (agents/live_feed)
    replay: tuple[str, ...] = ()  # historical files played as a live feed instead
    time_dilation: float | str = 1.0  # replay speed (x real time), or "virtual": as fast as timers allow
    bar_interval: str = "1m"  # trades -> bars (agents/bar_builder)
    bar_grace: str = "0s"  # wait this long past an interval's end before the timer closes its bar
    control: str | None = None  # HOST:PORT of the control server; None = off
    control_token: str | None = None  # Bearer token; required to bind a non-loopback address
    control_hosts: tuple[str, ...] = ()  # Host names the control server answers besides loopback and its address
    journal: str | None = None  # directory of the append-only journal; None = no journal, no recovery
    journal_accept_corrupt: bool = False  # start on a damaged journal: skip what cannot be read (else refuse)
    fsync_every: int = 64  # journal records per fsync batch ...
    fsync_interval_ms: float = 5.0  # ... or this long after the first unsynced record
    queue_size: int = 10_000  # market data queued for a lagging strategy before conflating
    loop: str = "auto"  # auto (uvloop live, dilated/virtual for replays), uvloop, asyncio
    stop_timeout: float = 2.0  # seconds a graceful stop may take
    strategy_max_errors: int = 10  # a strategy raising this many times is halted (orders cancelled); 0 = never
    backoff_base: float = 0.1  # feed reconnect: first delay (s) ...
    backoff_cap: float = 10.0  # ... longest delay
    backoff_seed: int | None = 0  # jitter seed (recorded; None = random)

    def __post_init__(self) -> None:
        for name in ("replay", "control_hosts"):
            value = getattr(self, name)
            if isinstance(value, str | list):
                object.__setattr__(self, name, tuple([value] if isinstance(value, str) else value))


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    log_level: str = "warning"

    def as_dict(self) -> dict[str, Any]:
        tree = dataclasses.asdict(self)
        tree["broker"] = msgspec.structs.asdict(self.broker)
        return tree


_SECTIONS = {"data": DataConfig, "strategy": StrategyConfig, "broker": BrokerSettings,
             "metrics": MetricsConfig, "output": OutputConfig, "sweep": SweepConfig,
             "daemon": DaemonConfig}


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    struct = issubclass(cls, msgspec.Struct)
    known = set(cls.__struct_fields__) if struct else {f.name for f in fields(cls)}
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
    if struct:
        try:
            return msgspec.convert(values, cls)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{where}: {exc}") from None
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
    current = getattr(config, section)
    if isinstance(current, msgspec.Struct):
        try:
            return replace(config, **{section: msgspec.structs.replace(current, **given)})
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None
    return replace(config, **{section: replace(current, **given)})
