"""HOST:PORT and prefix checks: a bad setting is a clear error before the run, never a silent no-op."""

import socket

import pytest

from metrics.address import parse_host_port, resolve
from metrics.settings import MetricsSettings


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8125", ("127.0.0.1", 8125)), ("localhost:1", ("localhost", 1)), ("[::1]:9125", ("::1", 9125))],
)
def test_parses_host_and_port(text, expected):
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("127.0.0.1", "expected HOST:PORT"),
        (":8125", "expected HOST:PORT"),
        ("127.0.0.1:", "expected HOST:PORT"),
        ("127.0.0.1:statsd", "is not a number"),
        ("127.0.0.1:0", "outside 1-65535"),
        ("127.0.0.1:70000", "outside 1-65535"),
    ],
)
def test_malformed_address_is_a_config_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_host_port(text)


def test_resolves_once_to_an_ip():
    address = resolve("localhost:8125")
    assert address.ip in ("127.0.0.1", "::1") and address.port == 8125
    assert address.family in (socket.AF_INET, socket.AF_INET6)
    assert str(address) == "localhost:8125"


def test_unresolvable_host_is_a_config_error():
    with pytest.raises(ValueError, match="cannot resolve host 'no-such-host.invalid'"):
        resolve("no-such-host.invalid:8125")


@pytest.mark.parametrize("prefix", ["engine", "prod.engine-1", ""])
def test_accepts_dotted_prefix(prefix):
    assert MetricsSettings(address="127.0.0.1:8125", prefix=prefix).prefix == prefix


@pytest.mark.parametrize("prefix", ["a b", "eng:ine", "x|y", "a..b", "é"])
def test_rejects_prefix_that_would_corrupt_lines(prefix):
    with pytest.raises(ValueError, match="statsd prefix"):
        MetricsSettings(address="127.0.0.1:8125", prefix=prefix)


@pytest.mark.parametrize("field", ["slow_callback_s", "flush_interval_s", "loop_lag_interval_s", "hang_after_s"])
def test_rejects_non_positive_intervals(field):
    with pytest.raises(ValueError, match=field):
        MetricsSettings(address="127.0.0.1:8125", **{field: 0})
