"""Config: TOML tables, CLI overrides, unknown keys refused, run ids that follow what decides results."""

from dataclasses import replace

import pytest

from engine.backtest.run_id import make_run_id
from engine.config import SAMPLE_CONFIG, Config, load_config, override


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
    with pytest.raises(ValueError, match=r"run.toml \[broker\]: unknown setting 'comission'"):
        load_config(path)


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
    with pytest.raises(ValueError, match=r"run.toml \[broker\]: \[broker\] cash: expected a finite number > 0, got inf"):
        load_config(path)
    path.write_text('[broker]\nallow_short = "false"\n')
    with pytest.raises(ValueError, match=r"run.toml \[broker\]: Expected `bool`, got `str` - at `\$.allow_short`"):
        load_config(path)
    path.write_text("[broker]\nslippage_perc = 0.001\nslip_open = false\n")
    broker = load_config(path).broker
    assert (broker.slippage_perc, broker.slip_open, broker.slip_match) == (0.001, False, True)
