"""Grid flags and TOML into parameter sets; data globs into files; the [sweep] table of the config."""

import pytest

from engine.config import load_config
from engine.sweep.grid import check_grid, coerce_value, expand_data, expand_grid, parse_grid_args


def test_values_are_typed_so_tables_sort_numerically():
    assert [coerce_value(v) for v in ["10", "0.5", "true", "False", "abc", " 7 "]] == [10, 0.5, True, False, "abc", 7]


def test_grid_flags_expand_to_the_product_last_key_fastest():
    grid = parse_grid_args(["fast=5,10", "slow=20,30,40"])
    assert grid == {"fast": [5, 10], "slow": [20, 30, 40]}
    sets = expand_grid(grid)
    assert len(sets) == 6
    assert sets[:3] == [{"fast": 5, "slow": 20}, {"fast": 5, "slow": 30}, {"fast": 5, "slow": 40}]
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize("bad", ["fast", "=1,2", "fast=", "fast=,"])
def test_malformed_grid_flags_are_errors(bad):
    with pytest.raises(ValueError, match="--grid expects"):
        parse_grid_args([bad])


def test_a_key_given_twice_or_a_repeated_value_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        parse_grid_args(["fast=1", "fast=2"])
    with pytest.raises(ValueError, match="repeats"):
        check_grid({"fast": [5, 5]})
    assert check_grid({"fast": 5}) == {"fast": [5]}


def test_data_patterns_expand_globs_and_directories_sorted_without_duplicates(tmp_path):
    for name in ["b.csv", "a.csv", "notes.md"]:
        (tmp_path / name).write_text("x\n")
    files = expand_data([str(tmp_path / "*.csv"), str(tmp_path), str(tmp_path / "a.csv")])
    assert [f.name for f in files] == ["a.csv", "b.csv"]
    assert expand_data([str(tmp_path / "missing.csv")]) == [tmp_path / "missing.csv"]  # becomes an error row
    with pytest.raises(ValueError, match="matches no file"):
        expand_data([str(tmp_path / "*.parquet")])


def test_the_sweep_table_in_toml(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('[data]\npaths = ["data/*.csv"]\n[strategy]\nname = "sma_cross"\n'
                    '[sweep]\nworkers = 2\nfail_fast = true\n[sweep.grid]\nfast = [5, 10]\nslow = [30]\n')
    config = load_config(path)
    assert config.sweep.grid == {"fast": [5, 10], "slow": [30]}
    assert (config.sweep.workers, config.sweep.fail_fast) == (2, True)
    assert config.data.paths == (str(tmp_path / "data/*.csv"),)
    path.write_text("[sweep]\nworkres = 2\n")
    with pytest.raises(ValueError, match=r"\[sweep\] workres: unknown key \(did you mean workers\?\)"):
        load_config(path)
