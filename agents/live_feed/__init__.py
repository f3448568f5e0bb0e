"""Live market data over TCP: newline-delimited JSON in, Trade / Quote / Bar messages on the hub.

The agent connects to ``tcp://HOST:PORT``, reads one JSON object per line
and publishes it on the pre-built key of its type. It reconnects with
exponential backoff and seeded jitter; a malformed line is logged with its
(truncated) content, counted and skipped -- it never stops the daemon.

Wire schema (one object per line, UTF-8, ``\\n`` terminated; ``\\r\\n`` and
blank lines are tolerated; unknown fields are ignored)::

    {"type": "trade", "symbol": "ABC", "ts": 1700000000000000000, "price": 1.5, "size": 100}
    {"type": "quote", "symbol": "ABC", "ts": "2023-11-14T22:13:20.5Z",
     "bid": 1.49, "ask": 1.51, "bid_size": 300, "ask_size": 200}      # sizes optional (0)
    {"type": "bar", "symbol": "ABC", "ts": 1700000000000000000,
     "open": 1.5, "high": 1.6, "low": 1.4, "close": 1.55, "volume": 12000}

* ``type``: ``trade`` | ``quote`` | ``bar`` -> published on ``md.trade`` / ``md.quote`` / ``md.bar``.
* ``symbol``: non-empty string; becomes the message's ``instrument``.
* ``ts``: integer nanoseconds since the Unix epoch, or an ISO-8601 string
  (``Z`` or an offset; no offset means UTC; resolved to the microsecond).
* numbers: JSON numbers (integers accepted where floats are expected).

A well-formed line that breaks the market-data rules (:mod:`hub.market_rules`:
finite positive prices, high >= low, open and close inside the range,
non-negative sizes, bid <= ask, timestamps inside int64 and never going
backwards per instrument) is refused: counted per rule, logged once per rule
with a sample line, never published.

A last line cut short by a disconnect is decoded like any other: a whole
object without its newline is kept, a cut one is counted as truncated.
"""

from agents.live_feed.agent import FeedStats, LiveFeedAgent
from agents.live_feed.backoff import Backoff
from agents.live_feed.wire import decode_line, parse_tcp_url

__all__ = ["Backoff", "FeedStats", "LiveFeedAgent", "decode_line", "parse_tcp_url"]
