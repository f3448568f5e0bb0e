"""The typed messages agents exchange: the only contract between them.

Every message is an immutable msgspec Struct whose first field is ``ts``, an
integer count of nanoseconds since the Unix epoch (UTC). Ids (instrument,
order id, agent name) travel in the payload, never in hub keys. The structs are
tagged so the journal and live feed can encode and decode a union of them.
"""

from __future__ import annotations

import msgspec


class Message(msgspec.Struct, frozen=True, gc=False, tag=True):
    """Base of every hub message: ``ts`` is integer nanoseconds since the epoch."""

    ts: int


# ---------------------------------------------------------------- market data


class Bar(Message, frozen=True, gc=False, tag=True):
    """One OHLCV bar; ``ts`` is the bar's timestamp as the source gives it."""

    instrument: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class Trade(Message, frozen=True, gc=False, tag=True):
    """One print from a live feed."""

    instrument: str
    price: float
    size: float


class Quote(Message, frozen=True, gc=False, tag=True):
    """Top of book from a live feed."""

    instrument: str
    bid: float
    ask: float
    bid_size: float = 0.0
    ask_size: float = 0.0


# ---------------------------------------------------------------- model state


class IndicatorSpec(msgspec.Struct, frozen=True, gc=False):
    """What to compute: ``kind`` (sma, ema, std, rsi, atr), its period, its input."""

    name: str
    kind: str
    period: int
    source: str = "close"


class IndicatorRequest(Message, frozen=True, gc=False, tag=True):
    """A consumer asks the model state agent to maintain these indicators."""

    requester: str
    specs: tuple[IndicatorSpec, ...]


class MarketState(Message, frozen=True, gc=False, tag=True):
    """A bar plus the requester's indicator values after that bar (NaN while warming up)."""

    bar: Bar
    requester: str
    names: tuple[str, ...]
    values: tuple[float, ...]


# ---------------------------------------------------------------- orders


BUY = "BUY"
SELL = "SELL"

MARKET = "MARKET"
LIMIT = "LIMIT"
STOP = "STOP"
STOP_LIMIT = "STOP_LIMIT"
ORDER_TYPES = (MARKET, LIMIT, STOP, STOP_LIMIT)


class SubmitOrder(Message, frozen=True, gc=False, tag=True):
    """A strategy's order. ``signal_price`` is the close it was decided on (submit-time cash check)."""

    order_id: str
    strategy: str
    instrument: str
    side: str
    size: float
    order_type: str = MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    signal_price: float = 0.0


class CancelOrder(Message, frozen=True, gc=False, tag=True):
    order_id: str


class OrderAccepted(Message, frozen=True, gc=False, tag=True):
    order_id: str
    instrument: str


class OrderRejected(Message, frozen=True, gc=False, tag=True):
    order_id: str
    instrument: str
    side: str
    size: float
    reason: str


class OrderCanceled(Message, frozen=True, gc=False, tag=True):
    order_id: str
    instrument: str
    reason: str = "canceled"


class Fill(Message, frozen=True, gc=False, tag=True):
    """An execution. ``remaining`` > 0 means the order stays open (partial fill)."""

    order_id: str
    instrument: str
    side: str
    size: float
    price: float
    commission: float
    remaining: float
    position: float
    cash: float
    avg_price: float = 0.0  # the position's average price after this fill (0.0 when flat)


# ---------------------------------------------------------------- account


class PositionState(msgspec.Struct, frozen=True, gc=False):
    instrument: str
    size: float
    avg_price: float
    last_price: float
    realized_pnl: float


class AccountState(Message, frozen=True, gc=False, tag=True):
    """The broker's books after a bar on which they changed (a fill), marked at that bar's close.

    Not published on bars that only move prices: :class:`EquityMarks` carries
    those, and :class:`AccountQuery` asks for the value now. ``positions``
    lists every instrument ever traded, flat ones too, in first-trade order.
    """

    cash: float
    equity: float
    positions: tuple[PositionState, ...] = ()


class EquityMarks(Message, frozen=True, gc=False, tag=True):
    """The account marked to market at each timestamp's close, in blocks; ``ts`` is the last one.

    One mark per timestamp (with several instruments at one timestamp, the
    mark after its last bar). The broker publishes a block when it is full
    (``BrokerAgent(marks_every=...)``, 1 in the daemon), before any order or
    account event and at the end of data, so a consumer always holds every
    mark older than the event it is handling.
    """

    stamps: tuple[int, ...]
    cash: tuple[float, ...]
    equity: tuple[float, ...]


class AccountQuery(Message, frozen=True, gc=False, tag=True):
    """A strategy host asks the broker what the account is worth now (``self.value`` in a strategy).

    The broker owns the mark-to-market formula; it answers at once with an
    :class:`AccountValue` (synchronous on the main bus), so the formula is
    written once and nobody mirrors it.
    """

    requester: str


class AccountValue(Message, frozen=True, gc=False, tag=True):
    """The broker's answer to an :class:`AccountQuery`: cash and equity marked at the last prices it has seen."""

    requester: str
    cash: float
    equity: float


# ---------------------------------------------------------------- system


class AgentError(Message, frozen=True, gc=False, tag=True):
    """A handler raised: published so nothing fails silently."""

    agent: str
    handler: str
    key: str
    error_type: str
    error: str


class EndOfData(Message, frozen=True, gc=False, tag=True):
    """The replay has no more events: agents flush and finish."""

    reason: str = "end of data"
