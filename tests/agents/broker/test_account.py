"""Money through a real Bus: commissions, slippage, shorts and P&L, rejections with reasons, marking."""

from __future__ import annotations

import msgspec
import pytest

from agents.broker import BrokerAgent, BrokerSettings
from hub import keys as K
from hub.bus import Bus
from hub.messages import BUY, LIMIT, MARKET, SELL, STOP, AccountQuery, AccountValue, EndOfData, PositionState
from tests.agents.broker.support import Rig, bar


def one_fill(settings: BrokerSettings, side: str = BUY, size: float = 100, ohlc=(10.0, 10.5, 9.5, 10.2)):
    rig = Rig(settings)
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(side, size)
    rig.bar(bar(1, *ohlc))
    return rig, rig.rec.fills[0]


# ---------------------------------------------------------------- commission


@pytest.mark.parametrize(
    ("commission", "fee"),
    [
        ({"commission": 0.001}, 100 * 0.001 * 10.0),
        ({"commission_per_share": 0.01}, 100 * 0.01),
        ({"commission": 0.0001, "min_commission": 5.0}, 5.0),  # 0.10 computed, the minimum applies
        ({"commission": 0.01, "min_commission": 5.0}, 100 * 0.01 * 10.0),  # 10 > minimum
        ({"min_commission": 1.0}, 1.0),
    ],
)
def test_commission_models(commission: dict, fee: float) -> None:
    rig, f = one_fill(BrokerSettings(cash=10_000.0, **commission))
    assert f.commission == fee
    assert f.cash == 10_000.0 - 100 * 10.0 - fee


def test_commission_charged_on_sells_too_and_realized_pnl_is_gross() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0, commission=0.001))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 10, 10.5, 9.5, 10.2))
    rig.submit(SELL, 100)
    rig.bar(bar(2, 11, 11.5, 10.5, 11))
    buy, sell = rig.rec.fills
    assert sell.commission == pytest.approx(100 * 0.001 * 11)
    assert sell.cash == pytest.approx(10_000 - 1000 - 1.0 + 1100 - 1.1)
    (flat,) = rig.rec.accounts[-1].positions  # every instrument ever traded is listed, flat ones too
    assert (flat.size, flat.avg_price, flat.last_price, flat.realized_pnl) == (0, 0.0, 11, pytest.approx(100.0))
    pos = rig.broker.position("X")
    assert (pos.size, pos.price, pos.realized) == (0, 0.0, pytest.approx(100.0))


def test_marks_every_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 2.5, None):
        with pytest.raises(ValueError, match="marks_every must be an integer >= 1"):
            BrokerAgent(Bus(), lambda: 0, marks_every=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cash": float("inf")}, "[broker] cash: expected a finite number > 0, got inf"),
        ({"cash": 0.0}, "[broker] cash: expected a finite number > 0, got 0.0"),
        ({"cash": "abc"}, '[broker] cash: expected a finite number > 0, got "abc"'),
        ({"cash": True}, "[broker] cash: expected a finite number > 0, got True"),
        ({"commission": -0.1}, "[broker] commission: expected a finite number in [0, 1), got -0.1"),
        ({"commission": float("nan")}, "[broker] commission: expected a finite number in [0, 1), got nan"),
        ({"commission_per_share": -1}, "[broker] commission_per_share: expected a finite number >= 0, got -1"),
        ({"min_commission": -1.0}, "[broker] min_commission: expected a finite number >= 0, got -1.0"),
        ({"slippage_perc": 1.0}, "[broker] slippage_perc: expected a finite number in [0, 1), got 1.0"),
        ({"slippage_fixed": -0.5}, "[broker] slippage_fixed: expected a finite number >= 0, got -0.5"),
        ({"volume_cap": 0}, "[broker] volume_cap: expected a finite number in (0, 1] (or absent: no cap), got 0"),
        ({"allow_short": "false"}, '[broker] allow_short: expected true or false, got "false"'),
        ({"slip_match": 1}, "[broker] slip_match: expected true or false, got 1"),
        ({"commission": 0.001, "commission_per_share": 0.01}, "[broker] commission, commission_per_share: set one"),
    ],
)
def test_settings_are_validated_naming_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        BrokerSettings(**changes)
    assert str(err.value).startswith(message)


def test_settings_convert_reports_types_and_ranges_and_unknown_keys() -> None:
    assert msgspec.convert({"cash": 5, "volume_cap": 0.5}, BrokerSettings) == BrokerSettings(cash=5.0, volume_cap=0.5)
    for table, message in (
        ({"cash": "abc"}, "Expected `float`, got `str` - at `$.cash`"),
        ({"allow_short": "false"}, "Expected `bool`, got `str` - at `$.allow_short`"),
        ({"volume_cap": 2.0}, "Expected `float` <= 1.0 - at `$.volume_cap`"),
        ({"cash": float("inf")}, "[broker] cash: expected a finite number > 0, got inf"),
        ({"comission": 0.1}, "Object contains unknown field `comission`"),
    ):
        with pytest.raises(msgspec.ValidationError) as err:
            msgspec.convert(table, BrokerSettings)
        assert str(err.value).startswith(message), err.value


def test_slippage_defaults_are_backtraders() -> None:
    s = BrokerSettings()
    assert (s.slip_open, s.slip_match, s.slip_limit, s.slip_out) == (True, True, True, False)


# ---------------------------------------------------------------- slippage


def test_percent_slippage_moves_against_the_trader() -> None:
    _, f = one_fill(BrokerSettings(slippage_perc=0.01))
    assert f.price == pytest.approx(10.1)
    _, f = one_fill(BrokerSettings(slippage_perc=0.01), side=SELL)
    assert f.price == pytest.approx(9.9)


def test_slippage_is_capped_to_the_bar_range() -> None:
    _, f = one_fill(BrokerSettings(slippage_fixed=0.5), ohlc=(10.0, 10.2, 9.9, 10.1))
    assert f.price == 10.2
    _, f = one_fill(BrokerSettings(slippage_fixed=0.5), side=SELL, ohlc=(10.0, 10.2, 9.9, 10.1))
    assert f.price == 9.9


def test_slippage_without_match_skips_the_bar() -> None:
    rig = Rig(BrokerSettings(slippage_fixed=0.5, slip_match=False))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 1)
    rig.bar(bar(1, 10.0, 10.2, 9.9, 10.1))
    assert rig.rec.fills == []
    rig.bar(bar(2, 10.0, 10.6, 9.9, 10.1))
    assert rig.rec.fills[0].price == 10.5


def test_stop_slippage_applies_to_intrabar_trigger() -> None:
    rig = Rig(BrokerSettings(slippage_fixed=0.05))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 1, STOP, stop=10.5)
    rig.bar(bar(1, 10.1, 10.8, 10.0, 10.6))
    assert rig.rec.fills[0].price == pytest.approx(10.55)


def test_limit_intrabar_fill_is_never_slipped() -> None:
    rig = Rig(BrokerSettings(slippage_fixed=0.05))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 1, LIMIT, limit=9.7)
    rig.bar(bar(1, 9.9, 10.0, 9.5, 9.8))
    assert rig.rec.fills[0].price == 9.7


# ---------------------------------------------------------------- shorts and P&L


def test_short_then_cover_realizes_pnl() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(SELL, 100)
    rig.bar(bar(1, 10, 10.2, 8.8, 9))
    short = rig.rec.fills[0]
    assert (short.position, short.cash) == (-100, 11_000.0)
    acct = rig.rec.accounts[-1]
    assert acct.equity == 11_000.0 - 100 * 9  # the short is a liability marked at the close
    assert acct.positions[0].avg_price == 10
    rig.submit(BUY, 100)
    rig.bar(bar(2, 9.5, 9.6, 9.4, 9.5))
    cover = rig.rec.fills[1]
    assert (cover.position, cover.cash) == (0, 10_050.0)
    acct = rig.rec.accounts[-1]
    assert [(p.size, p.realized_pnl) for p in acct.positions] == [(0, 50.0)] and acct.equity == 10_050.0
    assert rig.broker.position("X").realized == 50.0


def test_reversal_closes_then_opens_at_fill_price() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    rig.submit(SELL, 300)
    rig.bar(bar(2, 12, 12.2, 11.8, 12))
    pos = rig.rec.accounts[-1].positions[0]
    assert (pos.size, pos.avg_price, pos.realized_pnl) == (-200, 12, 200.0)
    assert rig.rec.fills[-1].cash == 10_000 - 1000 + 3600


def test_unrealized_pnl_and_average_price() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 100)
    rig.bar(bar(2, 11, 11.2, 10.8, 11.5))
    pos = rig.broker.position("X")
    assert pos.price == 10.5 and pos.unrealized == pytest.approx(200.0)
    rig.submit(SELL, 50)
    rig.bar(bar(3, 12, 12.2, 11.8, 12))
    assert pos.price == 10.5 and pos.realized == 75.0 and pos.size == 150


def test_short_selling_disabled() -> None:
    rig = Rig(BrokerSettings(allow_short=False))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10)
    rig.submit(SELL, 10)  # flat after the buy, allowed
    rig.submit(SELL, 1)  # would go short
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert [r.reason.split(":")[0] for r in rig.rec.rejections] == ["short selling disabled"]
    assert rig.broker.position("X").size == 0


# ---------------------------------------------------------------- rejections


def test_submit_time_rejection_with_reason() -> None:
    rig = Rig(BrokerSettings(cash=1000.0, commission=0.001))
    rig.bar(bar(0, 10, 10.6, 9.8, 10.5))
    oid = rig.submit(BUY, 100)
    rig.bar(bar(1, 9, 9.2, 8.8, 9))
    assert rig.rec.kinds() == ["OrderRejected"]
    r = rig.rec.rejections[0]
    assert (r.order_id, r.side, r.size) == (oid, BUY, 100)
    assert r.reason == "margin: cash 1000.00 < cost 1051.05 at submit"
    assert rig.broker.open_order_count() == 0


def test_fill_time_rejection_on_a_gap_up() -> None:
    rig = Rig(BrokerSettings(cash=1000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 9.9))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 10.2, 10.4, 10.1, 10.3))
    assert rig.rec.kinds() == ["OrderAccepted", "OrderRejected"]
    assert rig.rec.rejections[0].reason == "margin: cash 1000.00 < cost 1020.00 at fill"
    assert rig.broker.cash == 1000.0 and rig.broker.position("X") is None  # booked on its first execution only


def test_submit_check_chains_cash_across_orders_of_one_bar() -> None:
    rig = Rig(BrokerSettings(cash=2000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    a, b, c = rig.submit(BUY, 100), rig.submit(BUY, 100), rig.submit(BUY, 1)
    rig.bar(bar(1, 9, 9.2, 8.8, 9))
    assert [x.order_id for x in rig.rec.accepted] == [a, b]
    assert [x.order_id for x in rig.rec.rejections] == [c]


def test_limit_order_is_checked_at_its_limit_price() -> None:
    rig = Rig(BrokerSettings(cash=1000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 12))
    rig.submit(BUY, 100, LIMIT, limit=10)  # 100 * 12 would fail, 100 * 10 passes
    rig.bar(bar(1, 11, 11.2, 9.9, 10))
    assert rig.rec.kinds() == ["OrderAccepted", "Fill"]


def test_check_submit_off_accepts_and_checks_only_at_fill() -> None:
    rig = Rig(BrokerSettings(cash=1000.0, check_submit=False))
    rig.bar(bar(0, 10, 10.2, 9.8, 10.5))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 9, 9.2, 8.8, 9))
    assert rig.rec.kinds() == ["OrderAccepted", "Fill"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"size": 0}, "invalid size"),
        ({"size": -5}, "invalid size"),
        ({"size": float("nan")}, "invalid size"),
        ({"size": 1, "order_type": LIMIT}, "invalid order"),
        ({"size": 1, "order_type": "ICEBERG"}, "invalid order"),
        ({"size": 1, "signal": 0.0}, "invalid order"),
        ({"size": 1, "side": "HOLD"}, "invalid side"),
    ],
)
def test_invalid_orders_are_rejected_on_next_bar(kwargs: dict, reason: str) -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    args = {"side": BUY, "order_type": MARKET} | kwargs
    rig.submit(args.pop("side"), args.pop("size"), args.pop("order_type"), signal=args.pop("signal", None))
    assert rig.rec.rejections == []
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert rig.rec.rejections[0].reason.startswith(reason)


def test_duplicate_order_id_is_rejected() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 1, order_id="same")
    rig.submit(BUY, 2, order_id="same")
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert rig.rec.kinds() == ["OrderAccepted", "OrderRejected", "Fill"]
    assert rig.rec.rejections[0].reason.startswith("invalid order: duplicate order id")
    assert rig.rec.fills[0].size == 1


def test_unknown_instrument_rejected_at_end_of_data() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 1, instrument="NOPE")
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert rig.rec.rejections == []
    rig.bus.publish(K.END_OF_DATA, EndOfData(123))
    r = rig.rec.rejections[0]
    assert (r.ts, r.instrument) == (123, "NOPE") and r.reason.startswith("unknown instrument")


# ---------------------------------------------------------------- marking


def test_every_bar_is_marked_to_its_close_and_account_state_follows_fills_only() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    closes = [10.0, 10.5, 9.75, 11.25, 12.0]
    rig.bar(bar(0, 10, 10.2, 9.8, closes[0]))
    rig.submit(BUY, 100)
    for i, c in enumerate(closes[1:], 1):
        rig.bar(bar(i, 10.0, 12.5, 9.5, c))
    marks = rig.rec.marks
    assert [m[0] for m in marks] == [bar(i, 1, 1, 1, 1).ts for i in range(len(closes))]
    assert marks[0][1:] == (10_000.0, 10_000.0)
    for (_, cash, equity), c in zip(marks[1:], closes[1:], strict=True):
        assert cash == 9_000.0
        assert equity == 9_000.0 + 100 * c
    (account,) = rig.rec.accounts  # the fill's bar only
    assert account.ts == marks[1][0] and account.equity == marks[1][2]
    assert [(p.size, p.last_price) for p in account.positions] == [(100, closes[1])]


def test_marks_are_published_in_blocks_before_any_order_event_and_at_the_end() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0), marks_every=3)
    blocks: list[tuple[int, ...]] = []
    rig.bus.subscribe("t", K.EQUITY_MARKS, lambda m: blocks.append(m.stamps))
    ts = [rig.bar(bar(i, 10, 10.2, 9.8, 10)).ts for i in range(4)]
    assert blocks == [tuple(ts[:3])]  # full block; bar 3 pending
    rig.submit(BUY, 1)
    rig.bar(bar(4, 10, 10.2, 9.8, 10.5))  # accepted + filled: bar 3's mark goes out first, then bar 4's before the AccountState
    assert blocks[1:] == [(ts[3],), (bar(4, 1, 1, 1, 1).ts,)]
    assert rig.rec.accounts[-1].equity == 10_000.0 - 10 + 10.5
    rig.bar(bar(5, 10, 10.2, 9.8, 11))
    rig.bus.publish(K.END_OF_DATA, EndOfData(0))
    assert blocks[-1] == (bar(5, 1, 1, 1, 1).ts,)
    assert rig.rec.marks[-1] == (bar(5, 1, 1, 1, 1).ts, 9_990.0, 9_990.0 + 11)


def test_one_mark_per_timestamp_the_last_instrument_wins() -> None:
    rig = Rig(BrokerSettings(cash=1000.0), marks_every=10)
    rig.broker.restore(1000.0, [PositionState("A", 1, 5.0, 5.0, 0.0), PositionState("B", 1, 7.0, 7.0, 0.0)], [])
    rig.bar(bar(0, 6, 6, 6, 6, instrument="A"))
    rig.bar(bar(0, 8, 8, 8, 8, instrument="B"))
    rig.bar(bar(1, 9, 9, 9, 9, instrument="A"))
    rig.broker.flush_marks()
    assert [(m[0], m[2]) for m in rig.rec.marks] == [(bar(0, 1, 1, 1, 1).ts, 1000.0 + 6 + 8), (bar(1, 1, 1, 1, 1).ts, 1000.0 + 9 + 8)]


def test_two_instruments_marked_at_their_own_last_close() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10, instrument="A"))
    rig.submit(BUY, 10, instrument="A")
    rig.bar(bar(0, 20, 20.2, 19.8, 20, instrument="B"))
    rig.submit(BUY, 10, instrument="B")
    rig.bar(bar(1, 11, 11.2, 10.8, 11, instrument="A"))
    rig.bar(bar(1, 21, 21.2, 20.8, 22, instrument="B"))
    last = rig.rec.accounts[-1]
    assert [p.instrument for p in last.positions] == ["A", "B"]
    assert last.equity == 10_000 - 110 - 210 + 10 * 11 + 10 * 22


def test_every_instrument_ever_traded_is_listed_with_realized_pnl_of_partial_reductions() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10, instrument="A"))
    rig.submit(BUY, 10, instrument="A")
    rig.bar(bar(0, 20, 20.2, 19.8, 20, instrument="B"))
    rig.submit(BUY, 10, instrument="B")
    rig.bar(bar(1, 11, 11.2, 10.8, 11, instrument="A"))
    rig.submit(SELL, 4, instrument="A")
    rig.bar(bar(1, 21, 21.2, 20.8, 22, instrument="B"))
    rig.submit(SELL, 10, instrument="B")
    rig.bar(bar(2, 12, 12.2, 11.8, 12, instrument="A"))
    a = rig.rec.accounts[-1].positions
    assert [(p.instrument, p.size, p.last_price, p.realized_pnl) for p in a] == [("A", 6, 12, 4.0), ("B", 10, 22, 0.0)]
    rig.bar(bar(2, 23, 23.2, 22.8, 23, instrument="B"))
    last = rig.rec.accounts[-1]
    assert [(p.instrument, p.size, p.last_price, p.realized_pnl) for p in last.positions] == [
        ("A", 6, 12, 4.0), ("B", 0, 23, 20.0)]
    assert last.equity == rig.broker.cash + 6 * 12
    rig.submit(BUY, 1, instrument="B")
    rig.bar(bar(3, 24, 24.2, 23.8, 24, instrument="B"))
    last = rig.rec.accounts[-1]
    assert [(p.instrument, p.size, p.avg_price, p.last_price) for p in last.positions] == [("A", 6, 11, 12), ("B", 1, 24, 24)]


def test_restored_positions_are_marked_and_listed() -> None:
    """A restart (engine/daemon/restore.py) hands the broker its recovered books."""
    rig = Rig(BrokerSettings(cash=1000.0))
    rig.broker.restore(1000.0, [PositionState("A", 10, 5.0, 6.0, 1.5), PositionState("B", -2, 20.0, 19.0, 0.0)], [])
    rig.bar(bar(0, 7, 7.2, 6.8, 7, instrument="A"))
    assert rig.rec.value == 1000.0 + 10 * 7 - 2 * 19.0
    assert rig.rec.accounts == []  # no fill, no account event
    rig.submit(BUY, 1, instrument="A")
    rig.bar(bar(1, 8, 8.2, 7.8, 8, instrument="A"))
    last = rig.rec.accounts[-1]
    assert [(p.instrument, p.size, p.last_price) for p in last.positions] == [("A", 11, 8), ("B", -2, 19.0)]
    assert last.equity == rig.rec.value == 1000.0 - 8 + 11 * 8 - 2 * 19.0


def test_account_query_is_answered_at_once_with_the_last_prices_seen() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0), marks_every=100)
    answers: list[AccountValue] = []
    rig.bus.subscribe("host", K.ACCOUNT_VALUE, answers.append)
    rig.bar(bar(0, 10, 10.2, 9.8, 10, instrument="A"))
    rig.submit(BUY, 10, instrument="A")
    rig.bar(bar(0, 20, 20.2, 19.8, 20, instrument="B"))
    rig.submit(SELL, 5, instrument="B")
    rig.bar(bar(1, 11, 11.2, 10.8, 11.5, instrument="A"))
    rig.bus.publish(K.ACCOUNT_QUERY, AccountQuery(7, "host"))  # between A's and B's bar of one timestamp
    rig.bar(bar(1, 21, 21.2, 20.8, 19, instrument="B"))
    rig.bus.publish(K.ACCOUNT_QUERY, AccountQuery(8, "host"))
    cash = 10_000.0 - 10 * 11
    assert [(a.ts, a.requester, a.cash, a.equity) for a in answers] == [
        (7, "host", cash, cash + 10 * 11.5),  # B not traded yet
        (8, "host", cash + 5 * 21, cash + 5 * 21 + 10 * 11.5 - 5 * 19),
    ]
    assert answers[-1].equity == rig.broker.equity()
    rig.broker.flush_marks()
    assert rig.rec.marks[-1][1:] == (answers[-1].cash, answers[-1].equity)  # the broker's own mark of that bar
