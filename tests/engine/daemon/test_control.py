"""The control server on 127.0.0.1: routes, token, refusal of open binds, WebSocket pushes; the collector."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from engine.daemon.control import ControlServer, is_loopback, parse_listen
from engine.daemon.status import LoopLagProbe, StatusCollector
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AccountState,
    AgentError,
    Bar,
    Fill,
    OrderRejected,
    PositionState,
    SubmitOrder,
    Trade,
)


def run(coro_fn):
    with asyncio.Runner() as runner:
        return runner.run(asyncio.wait_for(coro_fn(), 30))


async def serving(token=None, push_interval=0.25):
    bus = Bus()
    collector = StatusCollector(bus, lambda: 0, mode="test", lag=LoopLagProbe(interval=0.01))
    collector.attach()
    collector.start()
    stops: list[str] = []
    server = ControlServer(collector.snapshot, stops.append, "127.0.0.1", 0, token=token,
                           push_interval=push_interval)
    await server.start()
    return bus, collector, server, stops


def url(server, path):
    return f"http://127.0.0.1:{server.port}{path}"


def test_health_status_and_stop():
    async def main():
        bus, collector, server, stops = await serving()
        bus.publish(K.SUBMIT_ORDER, SubmitOrder(1, "s-1", "s", "ABC", "BUY", 10.0, signal_price=10.0))
        bus.publish(K.SUBMIT_ORDER, SubmitOrder(1, "s-2", "s", "ABC", "BUY", 1.0, signal_price=10.0))
        bus.publish(K.BAR, Bar(2_000_000_000, "ABC", 10, 11, 9, 10.5, 100))
        bus.publish(K.FILL, Fill(2, "s-1", "ABC", "BUY", 10.0, 10.0, 0.0, 0.0, 10.0, 900.0))
        bus.publish(K.ORDER_REJECTED, OrderRejected(2, "s-2", "ABC", "BUY", 1.0, "margin"))
        bus.publish(K.ACCOUNT, AccountState(2, 900.0, 1005.0, (PositionState("ABC", 10.0, 10.0, 10.5, 0.0),)))
        bus.publish(K.AGENT_ERROR, AgentError(3, "strategy", "on_bar", "md.bar", "ZeroDivisionError", "boom"))
        bus.publish(K.TRADE, Trade(5_000_000_000, "ABC", 10.6, 1.0))
        await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            async with http.get(url(server, "/health")) as r:
                health = (r.status, await r.json())
            async with http.get(url(server, "/status")) as r:
                status = await r.json()
            async with http.post(url(server, "/stop"), headers={"X-Engine-Control": "1"}) as r:
                stop = (r.status, await r.json())
        await server.close()
        await collector.lag.stop()
        return health, status, stop, stops

    health, status, stop, stops = run(main)
    assert health == (200, {"ok": True})
    assert status["mode"] == "test" and status["uptime_s"] >= 0
    assert status["cash"] == 900.0 and status["equity"] == 1005.0
    assert status["positions"]["ABC"]["size"] == 10.0
    assert status["open_orders"] == {"count": 0, "ids": []}
    assert status["last_event_ts"] == 5_000_000_000 and status["last_event_time"].startswith("1970-01-01T00:00:05")
    assert status["errors"]["count"] == 1 and "boom" in status["errors"]["recent"][0]["error"]
    assert status["loop_lag"]["samples"] >= 1
    assert {"queues", "agents"} <= set(status)
    assert stop == (202, {"stopping": True}) and stops == ["control API"]


def test_queue_depth_per_agent_comes_from_the_bus():
    async def main():
        bus = Bus()
        slow = bus.subscribe_queue("slow_strategy", [K.TRADE], lambda m: None, maxsize=2,
                                   conflate=lambda key, msg: msg.instrument)
        collector = StatusCollector(bus, lambda: 0, mode="test")
        for i in range(5):  # the consumer task is not started: the inbox fills and conflates
            bus.publish(K.TRADE, Trade(i, "ABC", 1.0, 1.0))
        return collector.queues(), len(slow)

    queues, depth = run(main)
    assert queues["slow_strategy"]["depth"] == depth == 1  # full: compacted to the newest trade of ABC
    assert queues["slow_strategy"]["conflated"] == 4


def test_token_is_required_when_configured():
    async def main():
        _, collector, server, stops = await serving(token="s3cret")
        results = []
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"},
                            {"Authorization": "Bearer s3cret"}):
                async with http.get(url(server, "/status"), headers=headers) as r:
                    results.append(r.status)
            async with http.post(url(server, "/stop")) as r:
                results.append(r.status)
        await server.close()
        await collector.lag.stop()
        return results, stops

    results, stops = run(main)
    assert results == [401, 401, 401, 200, 401]
    assert stops == []


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org", "::"])
def test_non_loopback_without_token_is_refused_before_binding(host):
    with pytest.raises(ValueError, match="token"):
        ControlServer(dict, lambda reason: None, host, 0)


def test_non_loopback_with_token_is_accepted_unbound():
    server = ControlServer(dict, lambda reason: None, "0.0.0.0", 0, token="t")  # constructed, never started
    assert server.token == "t"


@pytest.mark.parametrize("host, loop", [("127.0.0.1", True), ("127.3.4.5", True), ("::1", True),
                                        ("localhost", True), ("0.0.0.0", False), ("myhost", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


@pytest.mark.parametrize("text, parsed", [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("8080", ("127.0.0.1", 8080)),
                                          ("[::1]:9", ("::1", 9)), (":7", ("127.0.0.1", 7))])
def test_parse_listen(text, parsed):
    assert parse_listen(text) == parsed


@pytest.mark.parametrize("bad", ["x", "127.0.0.1:x", "1.2.3.4:70000"])
def test_parse_listen_refuses(bad):
    with pytest.raises(ValueError):
        parse_listen(bad)


def test_websocket_pushes_snapshots_periodically():
    async def main():
        bus, collector, server, _ = await serving(push_interval=0.05)
        frames = []
        async with aiohttp.ClientSession() as http, http.ws_connect(url(server, "/ws")) as ws:
            for n in range(4):
                bus.publish(K.TRADE, Trade(n + 1, "ABC", 1.0, 1.0))
                frames.append(json.loads((await ws.receive(timeout=5)).data))
        await server.close()
        await collector.lag.stop()
        return frames

    frames = run(main)
    assert len(frames) == 4 and all(f["mode"] == "test" for f in frames)
    assert [f["events"] for f in frames] == sorted(f["events"] for f in frames)
    assert frames[-1]["events"] >= 3


def test_websocket_closes_when_the_server_stops():
    async def main():
        _, collector, server, _ = await serving(push_interval=0.05)
        async with aiohttp.ClientSession() as http, http.ws_connect(url(server, "/ws")) as ws:
            await ws.receive(timeout=5)
            await server.close()
            while not ws.closed:
                await ws.receive(timeout=5)
            closed = ws.closed
        await collector.lag.stop()
        return closed

    assert run(main) is True  # the client sees the close; nothing hangs


# ---------------------------------------------------------------- no web page can drive it


async def request(server, method, path, headers=None, data=None):
    async with aiohttp.ClientSession() as http, http.request(method, url(server, path), headers=headers,
                                                             data=data) as r:
        return r.status, await r.text()


def test_a_cross_origin_form_post_cannot_stop_the_daemon(logwood_handler_mock):
    async def main():
        _, collector, server, stops = await serving()
        port = server.port
        answers = {
            # a page on evil.example posting a text/plain "simple request": no preflight is needed for it
            "evil origin": await request(server, "POST", "/stop", {"Origin": "http://evil.example",
                                                                    "Content-Type": "text/plain"}, "stop"),
            "null origin": await request(server, "POST", "/stop", {"Origin": "null"}, "stop"),
            # our own origin but no custom header: a form on a page we did not serve cannot add one
            "no header": await request(server, "POST", "/stop", {"Content-Type": "text/plain"}, "stop"),
            "dns rebinding": await request(server, "GET", "/status", {"Host": f"evil.example:{port}"}),
            "rebinding stop": await request(server, "POST", "/stop", {"Host": f"evil.example:{port}",
                                                                     "X-Engine-Control": "1"}),
            "our page": await request(server, "GET", "/status", {"Origin": f"http://127.0.0.1:{port}"}),
            "localhost": await request(server, "GET", "/health", {"Host": f"localhost:{port}"}),
            "operator": await request(server, "POST", "/stop", {"X-Engine-Control": "1"}),
        }
        await server.close()
        await collector.lag.stop()
        return answers, stops, server.refused

    answers, stops, refused = run(main)
    statuses = {name: status for name, (status, _) in answers.items()}
    assert statuses == {"evil origin": 403, "null origin": 403, "no header": 403, "dns rebinding": 403,
                        "rebinding stop": 403, "our page": 200, "localhost": 200, "operator": 202}
    assert stops == ["control API"]  # only the operator's request stopped it
    assert refused == 5 and len([w for w in logwood_handler_mock["WARNING"] if "refused" in w]) == 5
    assert "access-control" not in answers["our page"][1].lower()


def test_a_foreign_page_cannot_open_the_websocket():
    async def main():
        _, collector, server, _ = await serving()
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url(server, "/ws"), headers={"Origin": "http://evil.example"})
            with pytest.raises(aiohttp.WSServerHandshakeError) as rebound:
                await http.ws_connect(url(server, "/ws"), headers={"Host": f"evil.example:{server.port}"})
            async with http.ws_connect(url(server, "/ws"), headers={"Origin": f"http://localhost:{server.port}"}) as ws:
                first = json.loads((await ws.receive()).data)
        await server.close()
        await collector.lag.stop()
        return refused.value.status, rebound.value.status, first

    refused, rebound, first = run(main)
    assert (refused, rebound) == (403, 403) and first["mode"] == "test"


def test_malformed_requests_get_a_4xx_and_one_log_line_never_a_traceback(logwood_handler_mock):
    raw = [
        b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xc3\xa9\xff\r\n\r\n",
        b"POST /stop HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \xe2\x82\xac\r\nContent-Length: 0\r\n\r\n",
        b"GET /status HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n",
    ]

    async def main():
        _, collector, server, stops = await serving(token="s3cret")
        answers = []
        for data in raw:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(data)
            await writer.drain()
            answers.append(await reader.read(4096))
            writer.close()
            await writer.wait_closed()
        await server.close()
        await collector.lag.stop()
        return answers, stops

    answers, stops = run(main)
    assert stops == []
    for answer in answers:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer
        assert b"Traceback" not in answer
    assert not logwood_handler_mock["ERROR"]
    assert all("Traceback" not in w for w in logwood_handler_mock["WARNING"])


# ---------------------------------------------------------------- profiling in production


def test_profile_returns_speedscope_json_of_the_running_process_and_is_protected_like_stop():
    async def main():
        _, collector, server, _ = await serving()
        answers = {
            "no header": await request(server, "GET", "/profile?seconds=1"),
            "evil origin": await request(server, "GET", "/profile?seconds=1", {"Origin": "http://evil.example",
                                                                              "X-Engine-Control": "1"}),
            "bad seconds": await request(server, "GET", "/profile?seconds=abc", {"X-Engine-Control": "1"}),
            "too long": await request(server, "GET", "/profile?seconds=3600", {"X-Engine-Control": "1"}),
            "operator": await request(server, "GET", "/profile?seconds=1", {"X-Engine-Control": "1"}),
        }
        await server.close()
        await collector.lag.stop()
        return answers

    answers = run(main)
    assert {k: s for k, (s, _) in answers.items()} == {"no header": 403, "evil origin": 403, "bad seconds": 400,
                                                       "too long": 400, "operator": 200}
    profile = json.loads(answers["operator"][1])
    assert "speedscope" in profile["$schema"] and profile["profiles"]
    files = {frame.get("file", "") for frame in profile["shared"]["frames"]}
    assert any(f.endswith("asyncio/base_events.py") for f in files)  # this process's loop, waiting for py-spy
