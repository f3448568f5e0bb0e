"""The StatsD client: exact lines on the wire, and a server that is down costs nothing."""

import socket

from metrics.address import resolve
from metrics.client import LoopSafeStatsClient
from tests.metrics.statsd_server import free_port


def test_sends_prefixed_lines_and_pipelines_them(udp_receiver):
    client = LoopSafeStatsClient(resolve(udp_receiver.address), "engine")
    try:
        client.incr("md.bars", 3)
        with client.pipeline() as pipe:
            pipe.gauge("account.equity", 100000.5)
            pipe.timing("orders.latency", 1.25)
    finally:
        client.close()
    assert udp_receiver.lines() == ["engine.md.bars:3|c", "engine.account.equity:100000.5|g", "engine.orders.latency:1.250000|ms"]


def test_no_prefix(udp_receiver):
    client = LoopSafeStatsClient(resolve(udp_receiver.address), "")
    client.incr("x")
    client.close()
    assert udp_receiver.lines() == ["x:1|c"]


def test_server_down_never_raises():
    client = LoopSafeStatsClient(resolve(f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"), "engine")
    try:
        for _ in range(200):  # the first send draws ICMP port unreachable, later ones ECONNREFUSED
            client.incr("md.bars")
            with client.pipeline() as pipe:
                pipe.timing("loop.lag", 1.0)
    finally:
        client.close()


def test_closed_client_ignores_late_sends():
    client = LoopSafeStatsClient(resolve("127.0.0.1:8125"), "engine")
    client.close()
    assert client.closed
    client.timing("loop.lag", 1.0)  # e.g. aiodebug's lag task outliving the session
