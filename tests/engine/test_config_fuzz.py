"""No config file, however wrong, ends in a traceback: it is refused with "error: ..." and exit 2, or it runs.

Hypothesis writes TOML documents from the real schema's tables and keys (and
misspelt ones) with values of every TOML type, plus arbitrary text. Each goes
through the CLI exactly as a user's would, up to the moment the replay would
start; reaching that moment means every check before it passed.
"""

from __future__ import annotations

import datetime
import json
import math
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from msgspec import inspect as mi

from engine.cli.main import main
from engine.config import SECTIONS, Config
from engine.validation import fields_of


class Reached(Exception):
    """The replay was about to start: the config passed every check."""


async def _replay(*args, **kwargs):
    raise Reached


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


STRINGS = ["auto", "ohlcv", "ashare", "parquet", "close", "fail", "continue", "virtual", "1m", "debug",
           "sma_cross", "sma_trend", ",", ";", "\t", "tests.engine.example_strategies:BuyOnBar", "os:path",
           "127.0.0.1:1", "missing.csv", "", "/dev/null", ".", "fast", "period", "x" * 3]
scalars = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(STRINGS),
    st.dates(),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def plausible(info: mi.Type) -> st.SearchStrategy:
    """Values of the type a key wants (mostly right, sometimes just out of range), to get past the first check."""
    if isinstance(info, mi.UnionType):
        return st.one_of([plausible(t) for t in info.types if not isinstance(t, mi.NoneType)])
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.FloatType):
        low = info.gt if info.gt is not None else info.ge if info.ge is not None else -10.0
        return st.floats(min_value=low - 1, max_value=low + 2, allow_nan=False)
    if isinstance(info, mi.IntType):
        low = info.gt if info.gt is not None else info.ge if info.ge is not None else -3
        return st.integers(low - 1, low + 5)
    if isinstance(info, mi.LiteralType):
        return st.sampled_from(info.values)
    if isinstance(info, mi.StrType):
        return st.sampled_from(STRINGS)
    if isinstance(info, mi.DictType):
        return st.dictionaries(plausible(info.key_type), plausible(info.value_type), max_size=3)
    if isinstance(info, mi.ListType | mi.VarTupleType):
        return st.lists(plausible(info.item_type), max_size=2)
    return values


def a_value(draw, hint) -> object:
    """Mostly a value of the key's type (so later checks are reached too), sometimes anything at all."""
    if hint is not None and draw(st.integers(0, 4)):
        return draw(plausible(mi.type_info(hint)))
    return draw(values)


@st.composite
def documents(draw) -> str:
    lines = []
    top = {k: v for k, v in fields_of(Config).items() if k not in SECTIONS}
    for key in draw(st.lists(st.sampled_from([*top, *top, "verbose"]), unique=True, max_size=2)):
        lines.append(f"{key} = {toml_value(a_value(draw, top.get(key)))}")
    names = [*SECTIONS, *SECTIONS, "brokr"]
    for table in draw(st.lists(st.sampled_from(names), unique=True, max_size=4)):
        known = fields_of(SECTIONS[table]) if table in SECTIONS else {}
        lines.append(f"[{table}]")
        keys = draw(st.lists(st.sampled_from([*known, *known, "unknown_key"]), unique=True, max_size=5))
        for key in keys:
            lines.append(f"{key} = {toml_value(a_value(draw, known.get(key)))}")
    return "\n".join(lines) + "\n"


def run_cli(tmp_path, text: str, capsys) -> None:
    config = tmp_path / "fuzz.toml"
    config.write_text(text)
    with mock.patch("engine.backtest.driver.replay", _replay):
        try:
            code = main(["backtest", "--config", str(config), "--out", str(tmp_path / "out")])
        except Reached:
            return
    captured = capsys.readouterr()
    assert code == 2 and captured.err.startswith("error: "), (text, code, captured.err)
    assert "Traceback" not in captured.err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=documents())
@example(text='[strategy]\nname = "os:path"\n')  # a class that is not a strategy
@example(text='[strategy]\nname = "sma_cross"\nparams = { fast = "abc" }\n')
@example(text='[data]\npaths = "/dev/null"\n')
def test_no_config_document_ends_in_a_traceback(tmp_path, capsys, text):
    run_cli(tmp_path, text, capsys)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_no_config_text_ends_in_a_traceback(tmp_path, capsys, text):
    run_cli(tmp_path, text, capsys)
