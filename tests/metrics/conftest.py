"""Fixtures of the metrics tests: a UDP receiver, the real StatsD daemon, a fresh metrics session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.runtime.ticker import RealTimeTicker
from metrics.session import MetricsSession
from metrics.settings import MetricsSettings
from tests.metrics.statsd_server import StatsdDaemon, UdpReceiver, why_no_daemon


@pytest.fixture
def udp_receiver() -> Iterator[UdpReceiver]:
    receiver = UdpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def session_factory(udp_receiver: UdpReceiver) -> Iterator[object]:
    """``make(**settings)`` -> a MetricsSession sending to ``udp_receiver``; all closed at teardown."""
    sessions: list[MetricsSession] = []

    def make(**settings: object) -> MetricsSession:
        session = MetricsSession(MetricsSettings(address=udp_receiver.address, **settings), ticker=RealTimeTicker)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def statsd_daemon(tmp_path) -> Iterator[StatsdDaemon]:
    reason = why_no_daemon()
    if reason is not None:
        pytest.skip(reason)
    daemon = StatsdDaemon(tmp_path)
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.stop()
