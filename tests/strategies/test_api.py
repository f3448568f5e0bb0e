"""The strategy API: parameters are typed from their defaults and typos are refused."""

import math

import pytest

from strategies import load_strategy
from strategies.api import Strategy, is_ready, sma


class P(Strategy):
    params = {"period": 15, "ratio": 0.5, "name": "x", "flag": False}


def test_params_are_coerced_to_the_default_type():
    s = P(ctx=None, name="s", params={"period": "20", "ratio": "0.25", "flag": "yes", "name": "abc"})
    assert (s.p.period, s.p.ratio, s.p.flag, s.p.name) == (20, 0.25, True, "abc")
    assert P(ctx=None, name="s").p.period == 15


def test_unknown_or_malformed_params_are_errors():
    with pytest.raises(ValueError, match="P has no parameter 'periodd'.*known: flag, name, period, ratio"):
        P(ctx=None, name="s", params={"periodd": "3"})
    with pytest.raises(ValueError, match=r"P parameter period='x' is not a valid int"):
        P(ctx=None, name="s", params={"period": "x"})


def test_indicator_specs_validate_their_period():
    assert sma(5).period == 5
    with pytest.raises(ValueError, match="sma period must be a positive integer"):
        sma(0)
    with pytest.raises(ValueError):
        sma(2.5)


def test_is_ready():
    assert is_ready(1.0, 2.0)
    assert not is_ready(1.0, math.nan)


def test_load_strategy_by_name_and_by_path():
    assert load_strategy("sma_cross").__name__ == "SmaCross"
    assert load_strategy("strategies.sma_trend:SmaTrend").__name__ == "SmaTrend"
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        load_strategy("nope")
    with pytest.raises(ValueError, match="has no class 'Missing'"):
        load_strategy("strategies.sma_trend:Missing")
