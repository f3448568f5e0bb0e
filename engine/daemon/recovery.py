"""Rebuilds cash, positions and open orders from a journal after a restart (or a kill -9).

Positions are replayed fill by fill through the broker's own
:meth:`~agents.broker.account.Position.apply` (size, average price and
realized P&L: one definition), so they match what the broker had even when
the crash came between a fill and its account state; a journaled account
state or snapshot, when present, is taken as it is.

A journal that cannot be read is refused (:class:`JournalUnreadable`): a
daemon that starts afresh on a damaged journal hands back cash it spent.
Only a torn last line -- the start of a record cut by a crash -- is ignored
and reported (and cut before appending). An undecodable line elsewhere, a
last line that is not the start of a record, or a file whose first record is
not a ``SessionStart`` is refused, unless the operator accepts the damage
(``accept_corrupt``, ``--journal-accept-corrupt``): then bad lines are
skipped and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from agents.broker.account import Position
from engine.daemon.journal import JOURNAL_FILE, OpenOrderState, Record, SessionStart, Snapshot
from hub.messages import (
    BUY,
    AccountState,
    Fill,
    OrderCanceled,
    OrderRejected,
    PositionState,
    SubmitOrder,
)

SHOWN = 200
_SEQ = re.compile(r"^(.*)-(\d+)$")


@dataclass
class Recovered:
    """What a journal says the books were when it was last written."""

    path: Path
    records: int = 0
    sessions: int = 0
    fills: int = 0
    cash: float | None = None
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: dict[str, OpenOrderState] = field(default_factory=dict)
    last_ts: int = 0
    order_seq: dict[str, int] = field(default_factory=dict)  # strategy -> highest order number used
    torn_tail: str | None = None  # the ignored last line, shown truncated
    corrupt: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    mismatches: int = 0  # fills whose journaled position disagreed with the replayed one

    @property
    def empty(self) -> bool:
        return self.records == 0

    def position_states(self) -> tuple[PositionState, ...]:
        return tuple(p.state() for p in self.positions.values())

    def summary(self) -> dict[str, Any]:
        return {
            "journal": str(self.path), "records": self.records, "sessions": self.sessions, "fills": self.fills,
            "cash": self.cash, "positions": {i: p.size for i, p in self.positions.items() if p.size},
            "open_orders": sorted(self.open_orders), "torn_tail": self.torn_tail,
            "corrupt_lines": len(self.corrupt), "mismatches": self.mismatches,
        }


_decoder = msgspec.json.Decoder(Record)
RECORD_START = b'{"type":"'  # how every record the journal writes begins (msgspec puts the tag first)


class JournalUnreadable(ValueError):
    """The journal is damaged beyond a torn last line; the message says where and how to proceed."""


def read_records(path: Path, report: Recovered | None = None) -> Iterator[Any]:
    """Decoded records in file order, streamed; bad lines are skipped and noted on ``report``.

    A bad *last* line (unterminated, or cut so it does not decode) is the
    torn tail of a crash; a bad line anywhere else is corruption.
    """
    failures: list[tuple[int, bytes, str]] = []
    number = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):  # noqa: B007 - number is read after the loop
            if not line.endswith(b"\n"):
                failures.append((number, line, "unterminated line"))
                continue
            if not line.strip():
                continue
            try:
                record = _decoder.decode(line)
            except (msgspec.DecodeError, ValueError) as exc:
                failures.append((number, line, str(exc)))
                continue
            yield record
    if report is not None:
        for failed_at, line, reason in failures:
            if failed_at == number and line.startswith(RECORD_START):
                report.torn_tail = _show(line.rstrip(b"\n"))
            else:
                report.corrupt.append((failed_at, reason))


def _show(line: bytes) -> str:
    text = line[:SHOWN].decode("utf-8", "replace")
    return text + ("..." if len(line) > SHOWN else "")


def recover(directory: str | Path, accept_corrupt: bool = False) -> Recovered:
    """The books as the journal in ``directory`` leaves them (empty when there is no journal).

    Raises :class:`JournalUnreadable` when the journal is damaged beyond a
    torn last line, unless ``accept_corrupt``.
    """
    path = Path(directory) / JOURNAL_FILE
    state = Recovered(path=path)
    if not path.exists():
        return state
    first: Any = None
    for record in read_records(path, state):
        if first is None:
            first = record
        state.records += 1
        if record.ts > state.last_ts:
            state.last_ts = record.ts
        apply = _APPLY.get(type(record))
        if apply is not None:
            apply(state, record)
    damage = _damage(state, first)
    if damage is not None and not accept_corrupt:
        raise JournalUnreadable(
            f"journal {path} cannot be trusted: {damage}. Refusing to start: a fresh start would restore cash "
            "that was spent. Move it aside to start afresh, or pass --journal-accept-corrupt "
            "([daemon] journal_accept_corrupt) to recover what can be read and skip the rest.")
    return state


def _damage(state: Recovered, first: Any) -> str | None:
    if state.corrupt:
        line, reason = state.corrupt[0]
        return f"{len(state.corrupt)} corrupt line(s), the first at line {line} ({reason})"
    if state.records and not isinstance(first, SessionStart):
        return f"its first record is a {type(first).__name__}, not a SessionStart"
    if not state.records and state.torn_tail is None and state.path.stat().st_size:
        return "no record could be read"
    return None


# ---------------------------------------------------------------- one record each


def _session(state: Recovered, rec: SessionStart) -> None:
    state.sessions += 1
    if state.cash is None:
        state.cash = rec.cash


def _snapshot(state: Recovered, rec: Snapshot) -> None:
    state.cash = rec.cash
    state.positions = {}
    for p in rec.positions:
        _set_position(state, p)
    state.open_orders = {o.order.order_id: o for o in rec.open_orders}


def _submit(state: Recovered, rec: SubmitOrder) -> None:
    state.open_orders[rec.order_id] = OpenOrderState(order=rec, remaining=rec.size)
    match = _SEQ.match(rec.order_id)
    if match is not None and match.group(1) == rec.strategy:
        seq = int(match.group(2))
        if seq > state.order_seq.get(rec.strategy, 0):
            state.order_seq[rec.strategy] = seq


def _fill(state: Recovered, rec: Fill) -> None:
    state.fills += 1
    state.cash = rec.cash
    pos = state.positions.get(rec.instrument)
    if pos is None:
        pos = state.positions[rec.instrument] = Position(rec.instrument)
    pos.apply(rec.size if rec.side == BUY else -rec.size, rec.price)
    pos.last = rec.price
    if pos.size != rec.position:
        state.mismatches += 1
        pos.size = rec.position
    order = state.open_orders.get(rec.order_id)
    if order is not None:
        if rec.remaining > 0:
            state.open_orders[rec.order_id] = OpenOrderState(order=order.order, remaining=rec.remaining)
        else:
            del state.open_orders[rec.order_id]


def _finished(state: Recovered, rec: OrderRejected | OrderCanceled) -> None:
    state.open_orders.pop(rec.order_id, None)


def _account(state: Recovered, rec: AccountState) -> None:
    state.cash = rec.cash
    for p in rec.positions:
        _set_position(state, p)


def _set_position(state: Recovered, p: PositionState) -> None:
    state.positions[p.instrument] = Position.from_state(p)


_APPLY: dict[type, Any] = {
    SessionStart: _session, Snapshot: _snapshot, SubmitOrder: _submit, Fill: _fill,
    OrderRejected: _finished, OrderCanceled: _finished, AccountState: _account,
}
