"""The NDJSON wire format (see the package docstring) decoded by msgspec into hub messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from hub import keys as K
from hub.messages import Bar, Quote, Trade

Symbol = Annotated[str, msgspec.Meta(min_length=1)]
Timestamp = int | datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_ns(ts: Timestamp) -> int:
    """Integer nanoseconds since the epoch; a datetime without offset is UTC."""
    if type(ts) is int:
        return ts
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class WireTrade(msgspec.Struct, tag="trade", tag_field="type", frozen=True, gc=False):
    symbol: Symbol
    ts: Timestamp
    price: float
    size: float

    def message(self) -> Trade:
        return Trade(ts=to_epoch_ns(self.ts), instrument=self.symbol, price=self.price, size=self.size)


class WireQuote(msgspec.Struct, tag="quote", tag_field="type", frozen=True, gc=False):
    symbol: Symbol
    ts: Timestamp
    bid: float
    ask: float
    bid_size: float = 0.0
    ask_size: float = 0.0

    def message(self) -> Quote:
        return Quote(ts=to_epoch_ns(self.ts), instrument=self.symbol, bid=self.bid, ask=self.ask,
                     bid_size=self.bid_size, ask_size=self.ask_size)


class WireBar(msgspec.Struct, tag="bar", tag_field="type", frozen=True, gc=False):
    symbol: Symbol
    ts: Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float

    def message(self) -> Bar:
        return Bar(ts=to_epoch_ns(self.ts), instrument=self.symbol, open=self.open, high=self.high,
                   low=self.low, close=self.close, volume=self.volume)


KEY_OF = {WireTrade: K.TRADE, WireQuote: K.QUOTE, WireBar: K.BAR}

_decoder = msgspec.json.Decoder(WireTrade | WireQuote | WireBar)


def decode_line(line: bytes) -> tuple[K.Key, Trade | Quote | Bar]:
    """(key, message) for one line; raises ``msgspec.DecodeError`` (or ``ValueError``) when malformed."""
    wire = _decoder.decode(line)
    return KEY_OF[type(wire)], wire.message()


def parse_tcp_url(url: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` -> (host, port); anything else is a clear error."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"feed address must look like tcp://HOST:PORT, got {url!r}")
    return parts.hostname, port
