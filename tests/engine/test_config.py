"""Config: TOML tables checked whole against the typed schema (every problem at once, file/table/key),
CLI overrides checked the same way, run ids that follow what decides results."""

from dataclasses import replace

import pytest

from engine.backtest.run_id import make_run_id
from engine.config import SAMPLE_CONFIG, Config, load_config, override, set_top
from engine.validation import ConfigError


def test_sample_config_is_the_a_share_reference():
    config = load_config(SAMPLE_CONFIG)
    assert config.strategy.name == "sma_trend"
    assert config.strategy.params == {"period": 15}
    assert (config.broker.cash, config.broker.commission) == (100000.0, 0.0002)
    assert config.data.format == "ashare"
    assert config.data.paths[0].endswith("engine/sample_data/600559.csv")


def test_unknown_keys_are_errors_naming_the_file_and_table(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[broker]\ncash = 5\ncomission = 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: [broker] comission: unknown key (did you mean commission?)"


def test_every_problem_is_reported_at_once_with_file_table_and_key(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'log_level = "verbose"\n'
        '[broker]\ncash = "abc"\nallow_short = "false"\nvolume_cap = 2\ncommision = 0.1\n'
        '[data]\nformat = "csv"\nskip_bad = 1\n'
        '[sweep]\nworkers = -1\ntop = 2.5\n'
        '[metrics]\nslow_callback_ms = nan\n'
        '[extras]\nx = 1\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.problems == [
        f'{path}: log_level: expected one of "debug", "error", "info", "warning", got "verbose"',
        f'{path}: [broker] cash: expected a finite number > 0, got "abc"',
        f'{path}: [broker] allow_short: expected true or false, got "false"',
        f"{path}: [broker] volume_cap: expected a finite number in (0, 1], got 2",
        f"{path}: [broker] commision: unknown key (did you mean commission?)",
        f'{path}: [data] format: expected one of "ashare", "auto", "ohlcv", "parquet", got "csv"',
        f"{path}: [data] skip_bad: expected true or false, got 1",
        f"{path}: [sweep] workers: expected an integer >= 0, got -1",
        f"{path}: [sweep] top: expected an integer >= 1, got 2.5",
        f"{path}: [metrics] slow_callback_ms: expected a finite number > 0, got nan",
        f"{path}: [extras]: unknown table (known: [data], [strategy], [broker], [metrics], [output], [sweep], [daemon])",
    ]
    assert str(err.value).startswith("11 problems in the configuration:\n  ")


def test_infinite_cash_is_refused_not_written_as_infinity(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[broker]\ncash = inf\n")
    with pytest.raises(ConfigError, match=r"\[broker\] cash: expected a finite number > 0, got inf$"):
        load_config(path)


def test_a_rule_between_keys_is_reported_like_the_others(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[broker]\ncommission = 0.001\ncommission_per_share = 0.01\n")
    with pytest.raises(ConfigError, match=r"run.toml: \[broker\] commission, commission_per_share: set one of them"):
        load_config(path)


def test_flags_are_checked_like_keys():
    with pytest.raises(ConfigError) as err:
        override(Config(), "broker", cash=-5.0, allow_short="no")
    assert err.value.problems == ["command line: [broker] cash: expected a finite number > 0, got -5.0",
                                  'command line: [broker] allow_short: expected true or false, got "no"']
    with pytest.raises(ConfigError, match="command line: on_error: expected one of"):
        set_top(Config(), on_error="ignore")


def test_a_config_that_is_not_text_or_not_a_file_is_one_clear_line(tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[broker]")
    with pytest.raises(ConfigError, match="bin.toml: not UTF-8 text"):
        load_config(binary)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[broker\n")
    with pytest.raises(ValueError, match="bad.toml"):
        load_config(path)


def test_relative_data_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "run.toml"
    path.write_text('[data]\npaths = ["../data/a.csv", "/abs/b.csv"]\n')
    config = load_config(path)
    assert config.data.paths == (str(tmp_path / "cfg" / "../data/a.csv"), "/abs/b.csv")


def test_override_applies_only_given_flags():
    config = Config()
    same = override(config, "broker", cash=None, commission=None)
    assert same is config
    changed = override(config, "broker", commission=0.001)
    assert changed.broker.commission == 0.001 and changed.broker.cash == config.broker.cash


def test_run_id_follows_data_content_and_decisive_config(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    config = Config()
    base = make_run_id(config, [str(data)])
    assert base == make_run_id(config, [str(data)])
    assert base.startswith("sma_cross-")
    assert make_run_id(replace(config, log_level="debug"), [str(data)]) == base  # not decisive
    assert make_run_id(override(config, "output", dir="elsewhere"), [str(data)]) == base
    assert make_run_id(override(config, "broker", cash=1.0), [str(data)]) != base
    data.write_text("a\n2\n")
    assert make_run_id(config, [str(data)]) != base


def test_broker_table_is_the_brokers_settings_checked_with_the_file_named(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[broker]\ncash = inf\n")
    with pytest.raises(ConfigError, match=r"run.toml: \[broker\] cash: expected a finite number > 0, got inf$"):
        load_config(path)
    path.write_text('[broker]\nallow_short = "false"\n')
    with pytest.raises(ConfigError, match=r'run.toml: \[broker\] allow_short: expected true or false, got "false"$'):
        load_config(path)
    path.write_text("[broker]\nslippage_perc = 0.001\nslip_open = false\n")
    broker = load_config(path).broker
    assert (broker.slippage_perc, broker.slip_open, broker.slip_match) == (0.001, False, True)


def test_a_config_built_in_code_is_checked_before_a_run(tmp_path):
    from engine.backtest.driver import run_backtest
    from engine.config import MetricsConfig, OutputConfig

    config = replace(Config(), metrics=MetricsConfig(slow_callback_ms=float("inf")), output=OutputConfig(dir=str(tmp_path)))
    with pytest.raises(ConfigError, match=r"^config: \[metrics\] slow_callback_ms: expected a finite number > 0, got inf$"):
        run_backtest(config)
    assert list(tmp_path.iterdir()) == []
