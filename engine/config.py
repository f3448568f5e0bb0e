"""Run configuration: one frozen tree, built from a TOML file and then CLI overrides.

The tables' types are the schema: each field's annotation (with
``msgspec.Meta`` ranges and ``Literal`` choices) says what the key accepts,
and :mod:`engine.validation` checks a whole file against it before anything
runs, reporting every unknown key and every wrong value at once with the
file, table and key. Every CLI flag has a TOML key; flags go through the same
checks (:func:`override`).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from agents.broker.settings import BrokerSettings  # the [broker] table is the broker's own settings type
from engine.validation import ConfigError, check_table, check_value, fields_of

SAMPLE_DIR = Path(__file__).parent / "sample_data"
SAMPLE_CONFIG = SAMPLE_DIR / "sample.toml"

Positive = Annotated[float, Meta(gt=0)]
Count = Annotated[int, Meta(ge=0)]
AtLeastOne = Annotated[int, Meta(ge=1)]
Name = Annotated[str, Meta(min_length=1)]
Column = Literal["ts", "open", "high", "low", "close", "volume", "adj_close"]
DELIMITER_NAMES = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}


def _as_tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class DataConfig:
    paths: tuple[str, ...] | str = ()  # a string is one path
    format: Literal["auto", "ohlcv", "ashare", "parquet"] = "auto"  # noqa: A003 - the CLI's name
    columns: dict[Column, str] = field(default_factory=dict)  # our name -> the file's column name
    instrument: Name | None = None
    skip_bad: bool = False
    delimiter: Literal["auto", ",", "\t", ";", "|"] = "auto"  # the CSV separator; auto: told from the header line
    adjust: Literal["none", "close"] = "none"  # close: prices scaled to the adjusted close (adj_close / close)
    sort: bool = False  # sort rows by time (stable, with a note) instead of refusing an unsorted file

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", _as_tuple(self.paths))


@dataclass(frozen=True)
class StrategyConfig:
    name: Name = "sma_cross"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsConfig:
    statsd: Name | None = None  # HOST:PORT; off when None
    prefix: str = "engine"
    slow_callback_ms: Positive = 50.0


@dataclass(frozen=True)
class OutputConfig:
    dir: Name | None = None  # noqa: A003 - default results/<run-id>
    report: bool = True  # report.html beside the result files (--no-report); needs the research extra


@dataclass(frozen=True)
class SweepConfig:
    """``python -m engine sweep``: the grid and how to run it. Data, strategy and broker come from their own tables."""

    grid: dict[str, list[Any] | str | int | float | bool] = field(default_factory=dict)  # param -> values
    where: Name | None = None  # constraint on a parameter set, e.g. "fast < slow": the others are skipped, not run
    workers: Count | None = None  # local processes; None = every core; 0 = in this process
    dask: Name | None = None  # scheduler address; None = $DASK_SCHEDULER_ADDRESS, else local
    cache_dir: Name | None = None  # parsed-columns cache; None = $XDG_CACHE_HOME/engine/columns
    metric: Name = "total_return"  # ranking: total_return, sharpe, final_value, max_drawdown (lower is better)
    top: AtLeastOne = 10  # rows of the printed overall ranking
    bundle: Count = 0  # backtests per Dask task; 0 = sized from the data
    retries: Count = 2  # Dask retries per task; local: worker deaths a backtest may cause
    fail_fast: bool = False  # stop at the first failed backtest and exit non-zero
    quiet: bool = False  # no progress bar
    keep_runs: bool = False  # keep each backtest's fills/orders/equity under OUT/runs/<run-id>/
    force: bool = False  # write into an output folder that already holds a sweep's results


@dataclass(frozen=True)
class DaemonConfig:
    """``python -m engine run``: the long-lived daemon. Every ``run`` flag has its key here."""

    feed: Name | None = None  # tcp://HOST:PORT of a live NDJSON feed (agents/live_feed)
    replay: tuple[str, ...] | str = ()  # historical files played as a live feed instead
    time_dilation: Positive | Literal["virtual"] = 1.0  # replay speed (x real time), or as fast as timers allow
    bar_interval: Name = "1m"  # trades -> bars (agents/bar_builder)
    bar_grace: Name = "0s"  # wait this long past an interval's end before the timer closes its bar
    control: Name | None = None  # HOST:PORT of the control server; None = off
    control_token: Name | None = None  # Bearer token; required to bind a non-loopback address
    control_hosts: tuple[str, ...] | str = ()  # Host names the control server answers besides loopback and its address
    journal: Name | None = None  # directory of the append-only journal; None = no journal, no recovery
    journal_accept_corrupt: bool = False  # start on a damaged journal: skip what cannot be read (else refuse)
    fsync_every: AtLeastOne = 64  # journal records per fsync batch ...
    fsync_interval_ms: Positive = 5.0  # ... or this long after the first unsynced record
    queue_size: AtLeastOne = 10_000  # market data queued for a lagging strategy before conflating
    loop: Literal["auto", "uvloop", "asyncio"] = "auto"  # auto: uvloop live, dilated/virtual for replays
    stop_timeout: Positive = 2.0  # seconds a graceful stop may take
    strategy_max_errors: Count = 10  # a strategy raising this many times is halted (orders cancelled); 0 = never
    backoff_base: Positive = 0.1  # feed reconnect: first delay (s) ...
    backoff_cap: Positive = 10.0  # ... longest delay
    backoff_seed: int | None = 0  # jitter seed (recorded; None = random)

    def __post_init__(self) -> None:
        object.__setattr__(self, "replay", _as_tuple(self.replay))
        object.__setattr__(self, "control_hosts", _as_tuple(self.control_hosts))


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    on_error: Literal["fail", "continue"] = "fail"  # an agent's exception fails the run, or is counted

    def as_dict(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)


SECTIONS = {name: hint for name, hint in fields_of(Config).items() if isinstance(hint, type)}


def replace(value: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the config's tables, whichever kind they are (dataclass or msgspec Struct)."""
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.replace(value, **changes)
    return dataclasses.replace(value, **changes)


def parse_config(table: dict[str, Any], where: str) -> Config:
    """A config from a TOML document's tables; ConfigError listing every problem (``where`` names the source)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    top = fields_of(Config)
    for key, value in table.items():
        section = SECTIONS.get(key)
        if section is not None:
            built, found = check_table(section, value, where, f"[{key}]")
            problems += found
            values[key] = built
        elif key in top:
            problem = check_value(top[key], value)
            if problem:
                problems.append(f"{where}: {key}: {problem}")
            values[key] = value
        elif isinstance(value, dict):
            problems.append(f"{where}: [{key}]: unknown table (known: {', '.join(f'[{s}]' for s in SECTIONS)})")
        else:
            _, found = check_table(Config, {key: value}, where, "")
            problems += found
    if problems:
        raise ConfigError(problems)
    return Config(**values)


def check_config(config: Config) -> Config:
    """``config`` itself once it passed the checks a file gets (one built in code skipped them); else ConfigError."""
    parse_config(msgspec.to_builtins(config), "config")
    return config


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config (or the defaults when ``path`` is None). Relative data paths are resolved against the file."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"config file {path} does not exist"]) from None
    except IsADirectoryError:
        raise ConfigError([f"config file {path} is a directory"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"config file {path}: {exc.strerror or exc}"]) from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    config = parse_config(table, str(path))
    resolved = tuple(p if Path(p).is_absolute() else str(path.parent / p) for p in config.data.paths)
    return replace(config, data=replace(config.data, paths=resolved))


def override(config: Config, section: str, **changes: Any) -> Config:
    """Apply the CLI flags that were given (None means not given), checked like the TOML keys."""
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        return config
    current = getattr(config, section)
    known = fields_of(type(current))
    where = f"command line: [{section}]"
    problems = [f"{where} {k}: {p}" for k, v in given.items() if (p := check_value(known[k], v))]
    if problems:
        raise ConfigError(problems)
    try:
        return replace(config, **{section: replace(current, **given)})
    except ValueError as exc:  # a rule between keys (a type's own message may name its table already)
        text = re.sub(r"^\[[a-z_.]+\] ", "", str(exc))
        raise ConfigError([f"{where} {text}"]) from None


def set_top(config: Config, **changes: Any) -> Config:
    """Top-level keys (``log_level``, ``on_error``) from flags: None means not given."""
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        return config
    top = fields_of(Config)
    problems = [f"command line: {k}: {p}" for k, v in given.items() if (p := check_value(top[k], v))]
    if problems:
        raise ConfigError(problems)
    return replace(config, **given)
