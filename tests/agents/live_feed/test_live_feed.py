"""The live feed against a real asyncio TCP server on 127.0.0.1: decoding, bad lines, reconnects, backoff."""

from __future__ import annotations

import asyncio
import json

import pytest

from agents.live_feed import Backoff, LiveFeedAgent, decode_line, parse_tcp_url
from engine.runtime.loops import dilated_loop, stdlib_loop
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, Quote, Trade

TRADE = b'{"type":"trade","symbol":"ABC","ts":1700000000000000000,"price":1.5,"size":100}'


def run(coro_fn, factory=stdlib_loop):
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(asyncio.wait_for(coro_fn(), 20))


class LineServer:
    """A feed server in the test's own loop: sends what the test gives it to every client."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.clients: list[asyncio.StreamWriter] = []
        self.connected = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> LineServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.append(writer)
        self.connected.set()

    async def send(self, data: bytes) -> None:
        for writer in self.clients:
            writer.write(data)
            await writer.drain()

    async def kill(self) -> None:
        """Close the listener and every connection: the feed has died."""
        assert self._server is not None
        self._server.close()
        for writer in self.clients:
            writer.close()
        for writer in self.clients:
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        await self._server.wait_closed()
        self.clients.clear()
        self.connected.clear()


class Collector:
    def __init__(self, bus: Bus) -> None:
        self.messages: list[object] = []
        for key in (K.TRADE, K.QUOTE, K.BAR):
            bus.subscribe("collector", key, self.messages.append)

    async def wait_for(self, count: int) -> None:
        while len(self.messages) < count:
            await asyncio.sleep(0.005)


def make_feed(port: int, **kwargs) -> tuple[Bus, LiveFeedAgent, Collector]:
    bus = Bus()
    kwargs.setdefault("backoff", Backoff(base=0.01, cap=0.05, seed=1))
    feed = LiveFeedAgent(bus, lambda: 0, f"tcp://127.0.0.1:{port}", **kwargs)
    return bus, feed, Collector(bus)


async def wait_until(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


# ---------------------------------------------------------------- decoding


def test_each_type_decodes_to_its_message_and_key():
    key, msg = decode_line(TRADE)
    assert key == K.TRADE and msg == Trade(ts=1_700_000_000_000_000_000, instrument="ABC", price=1.5, size=100.0)
    key, msg = decode_line(b'{"type":"quote","symbol":"X","ts":"2023-11-14T22:13:20.5Z","bid":1,"ask":2}\r')
    assert key == K.QUOTE and msg == Quote(ts=1_700_000_000_500_000_000, instrument="X", bid=1.0, ask=2.0)
    key, msg = decode_line(json.dumps({"type": "bar", "symbol": "Y", "ts": "2023-11-15T06:13:20+08:00", "open": 1,
                                       "high": 2, "low": 0.5, "close": 1.5, "volume": 10, "extra": "ignored"}).encode())
    assert key == K.BAR and msg == Bar(ts=1_700_000_000_000_000_000, instrument="Y", open=1.0, high=2.0, low=0.5,
                                       close=1.5, volume=10.0)


def test_iso_without_offset_is_utc():
    _, msg = decode_line(b'{"type":"trade","symbol":"A","ts":"2023-11-14T22:13:20","price":1,"size":1}')
    assert msg.ts == 1_700_000_000_000_000_000


@pytest.mark.parametrize("line", [
    b"not json", b"{", b"[]", b"42", b'{"type":"trade"}', b'{"type":"order","symbol":"A","ts":1}',
    b'{"type":"trade","symbol":"","ts":1,"price":1,"size":1}',
    b'{"type":"trade","symbol":"A","ts":1.5,"price":1,"size":1}',
    b'{"type":"trade","symbol":"A","ts":"yesterday","price":1,"size":1}',
    b'{"type":"trade","symbol":"A","ts":1,"price":"1.5","size":1}',
    b'\xff\xfe garbage',
])
def test_malformed_lines_raise_value_errors(line):
    with pytest.raises(ValueError):
        decode_line(line)


@pytest.mark.parametrize("url", ["127.0.0.1:9000", "http://127.0.0.1:9000", "tcp://127.0.0.1", "tcp://:9", "tcp://h:x"])
def test_bad_feed_addresses_are_refused(url):
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        parse_tcp_url(url)


def test_feed_address_parses():
    assert parse_tcp_url("tcp://127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_tcp_url("tcp://[::1]:9000/") == ("::1", 9000)


# ---------------------------------------------------------------- over TCP


def test_lines_split_across_packets_are_published_in_order():
    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port)
        feed.start()
        await server.connected.wait()
        lines = b"".join(TRADE.replace(b"1.5", str(1 + i).encode()) + b"\n" for i in range(50))
        for i in range(0, len(lines), 37):  # cut mid-line on purpose
            await server.send(lines[i:i + 37])
        await seen.wait_for(50)
        await feed.close()
        await server.kill()
        return seen.messages, feed.stats

    messages, stats = run(main)
    assert [m.price for m in messages] == [float(1 + i) for i in range(50)]
    assert stats.malformed == 0 and stats.published == 50


def test_garbage_lines_are_logged_counted_and_skipped(logwood_handler_mock):
    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port)
        feed.start()
        await server.connected.wait()
        await server.send(b"\n".join([
            TRADE, b"garbage {here}", b"", b'{"type":"trade","symbol":"ABC"}', b"   ", TRADE, b"\xff\x00", TRADE,
        ]) + b"\n")
        await seen.wait_for(3)
        await feed.close()
        await server.kill()
        return feed.stats, seen.messages

    stats, messages = run(main)
    assert len(messages) == 3
    assert (stats.lines, stats.published, stats.malformed) == (6, 3, 3)
    warnings = logwood_handler_mock["WARNING"]
    assert any("garbage {here}" in w for w in warnings)
    assert any("Malformed feed line #3" in w for w in warnings)


def test_a_line_too_long_is_dropped_up_to_its_newline():
    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port, max_line=1000)
        feed.start()
        await server.connected.wait()
        await server.send(TRADE + b"\n" + b"x" * 3000)
        await server.send(b"y" * 3000)
        await server.send(b"z\n" + TRADE + b"\n")
        await seen.wait_for(2)
        await feed.close()
        await server.kill()
        return feed.stats

    stats = run(main)
    assert (stats.published, stats.too_long, stats.malformed) == (2, 1, 1)
    assert stats.last_bad_line.startswith("xxx") and stats.last_bad_line.endswith("...")


def test_truncated_last_line_on_disconnect_is_counted_and_a_whole_one_kept():
    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port)
        feed.start()
        await server.connected.wait()
        await server.send(TRADE + b"\n" + TRADE[:30])
        await seen.wait_for(1)
        await server.kill()
        await wait_until(lambda: feed.stats.disconnects == 1)
        await server.start()  # same port
        await server.connected.wait()
        await server.send(TRADE + b"\n" + TRADE)  # last line whole, only its newline missing
        await seen.wait_for(2)
        await server.kill()
        await seen.wait_for(3)
        await feed.close()
        return feed.stats

    stats = run(main)
    assert stats.truncated == 1 and stats.malformed == 1
    assert stats.published == 3


def test_feed_server_dies_and_comes_back():
    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port)
        feed.start()
        await server.connected.wait()
        await server.send(TRADE + b"\n")
        await seen.wait_for(1)
        await server.kill()
        await wait_until(lambda: feed.stats.connect_failures >= 2)  # refused while down
        await server.start()
        await server.connected.wait()
        await wait_until(lambda: feed.stats.connected)
        await server.send(TRADE + b"\n" + TRADE + b"\n")
        await seen.wait_for(3)
        await feed.close()
        await server.kill()
        return feed.stats

    stats = run(main)
    assert stats.connects == 2 and stats.disconnects == 1 and stats.published == 3


def test_daemon_keeps_running_when_a_subscriber_raises():
    async def main():
        server = await LineServer().start()
        bus, feed, seen = make_feed(server.port)
        errors = []
        bus.subscribe("flaky", K.TRADE, lambda m: 1 / 0)
        bus.subscribe("watch", K.AGENT_ERROR, errors.append)
        feed.start()
        await server.connected.wait()
        await server.send((TRADE + b"\n") * 5)
        await seen.wait_for(5)
        await feed.close()
        await server.kill()
        return errors, feed.stats

    errors, stats = run(main)
    assert len(errors) == 5 and stats.connects == 1


# ---------------------------------------------------------------- backoff


def test_backoff_schedule_is_exponential_capped_jittered_and_seeded():
    first = Backoff(base=0.1, factor=2, cap=2.0, jitter=0.25, seed=42)
    delays = [first.next() for _ in range(8)]
    again = Backoff(base=0.1, factor=2, cap=2.0, jitter=0.25, seed=42)
    assert [again.next() for _ in range(8)] == delays
    assert list(first.history) == delays
    for n, delay in enumerate(delays):
        nominal = min(2.0, 0.1 * 2 ** n)
        assert nominal * 0.75 <= delay <= min(2.0, nominal * 1.25)
    assert delays[-1] <= 2.0
    assert Backoff(seed=43).next() != Backoff(seed=42).next()
    first.reset()
    assert first.attempt == 0 and 0.075 <= first.next() <= 0.125


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"factor": 0.5}, {"cap": 0.01}, {"jitter": 1.0}])
def test_backoff_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_reconnect_attempts_follow_the_seeded_schedule():
    """Nothing listens: every attempt is refused, and the waits are the seeded schedule."""

    async def main():
        probe = await LineServer().start()
        port = probe.port
        await probe.kill()  # a port nobody listens on
        _, feed, _ = make_feed(port, backoff=Backoff(base=0.5, factor=2, cap=4.0, jitter=0.3, seed=9))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        feed.start()
        await wait_until(lambda: feed.stats.connect_failures >= 6, timeout=60)
        elapsed = loop.time() - t0
        await feed.close()
        return list(feed.backoff.history), elapsed

    history, elapsed = run(main, factory=dilated_loop(100))
    expected = Backoff(base=0.5, factor=2, cap=4.0, jitter=0.3, seed=9)
    assert history[:6] == [expected.next() for _ in range(6)]
    assert elapsed >= sum(history[:5])  # it really waited them (in loop time)


# ---------------------------------------------------------------- the market-data rules at the edge

T0 = 1_700_000_000_000_000_000


def line(**fields) -> bytes:
    return json.dumps(fields).encode() + b"\n"


REFUSED = [  # (line, rule): each was once accepted and reached the broker
    (line(type="bar", symbol="ABC", ts=T0 + 1, open=1e308, high=1e308, low=1e308, close=1e308, volume=1), "too large"),
    (line(type="trade", symbol="ABC", ts=T0 + 1, price=-10, size=1), "not positive"),
    (line(type="bar", symbol="ABC", ts=T0 + 1, open=10, high=9, low=11, close=10, volume=1), "low above high"),
    (line(type="trade", symbol="ABC", ts=T0 + 1, price=10, size=-5), "negative"),
    (line(type="bar", symbol="ABC", ts=T0 + 1, open=10, high=11, low=9, close=10, volume=-1), "negative"),
    (line(type="trade", symbol="ABC", ts=T0 - 1, price=10, size=1), "timestamp going backwards"),
    (line(type="quote", symbol="ABC", ts=T0 + 1, bid=10.2, ask=10.1), "bid above ask"),
    (line(type="trade", symbol="ABC", ts=2**64, price=10, size=1), "timestamp out of range"),
]


def test_each_bad_message_is_counted_logged_once_and_never_published(logwood_handler_mock):
    good = [line(type="trade", symbol="ABC", ts=T0, price=10, size=1),
            line(type="quote", symbol="ABC", ts=T0, bid=10, ask=10.1),
            line(type="bar", symbol="ABC", ts=T0, open=10, high=11, low=9, close=10, volume=1)]

    async def main():
        server = await LineServer().start()
        _, feed, seen = make_feed(server.port)
        feed.start()
        await server.connected.wait()
        await server.send(b"".join(good))
        for bad, _ in REFUSED:
            await server.send(bad + bad)  # each twice: counted twice, logged once
        await server.send(line(type="trade", symbol="ABC", ts=T0 + 2, price=10.5, size=1))
        await seen.wait_for(4)
        await feed.close()
        await server.kill()
        return feed, seen

    feed, seen = run(main)
    assert len(seen.messages) == 4 and seen.messages[-1].price == 10.5  # only the good ones reached the bus
    assert feed.stats.refused == 2 * len(REFUSED) and feed.stats.published == 4
    rules = feed.rules.status()
    assert rules["by_rule"] == {"too large": 2, "not positive": 2, "low above high": 2, "negative": 4,
                                "timestamp going backwards": 2, "bid above ask": 2, "timestamp out of range": 2}
    assert '"price": -10' in rules["samples"]["not positive"]
    warnings = [w for w in logwood_handler_mock["WARNING"] if "refused" in w]
    assert len(warnings) == len(rules["by_rule"])  # one log line per kind
