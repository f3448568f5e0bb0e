"""The append-only journal: every order, fill and position/cash change, one JSON record per line.

Durability guarantee (precisely):

1. **Before anyone acts on it, it is in the kernel.** The journal is attached
   to the bus before every other agent and subscribes synchronously, so a
   journaled message is ``write(2)``-n to the file (``O_APPEND``, no
   user-space buffer) inside ``publish``, before the broker, the strategy or
   the control server sees it. A process crash -- ``kill -9``, an exception,
   the OOM killer -- therefore loses no record that any agent acted on or
   that the daemon reported: the kernel's page cache has it.
2. **On disk within a small batch.** The file is ``fsync``-ed after every
   ``fsync_every`` records or ``fsync_interval`` seconds after the first
   unsynced one, whichever comes first (defaults 64 records / 5 ms), in a
   worker thread so the loop never waits on the disk, and inline on
   :meth:`close`. A power loss or kernel crash loses at most the records of
   the batch being synced: ``synced`` counts the records known to be on
   disk, and the control server reports it.
3. **A torn last line is detected, never propagated.** Recovery ignores and
   reports an unterminated or undecodable last line; opening a journal for
   appending cuts such a tail off first, so a new record never glues onto it.
4. **Fail closed.** When a record cannot be written, or the file cannot be
   synced (a full disk, an I/O error), the journal stops writing, logs it
   once and calls ``on_failure(reason)``: the daemon halts order flow (no
   market data, no new order reaches the broker), so nothing happens that a
   restart could not recover. Records offered after that are counted as
   ``lost``, never half-written.

Records are msgspec JSON of the tagged hub messages (``{"type": "Fill", ...}``)
plus :class:`SessionStart` and :class:`Snapshot`. Account states are
journaled only when cash or a position changed, not on every mark to market.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import logwood
import msgspec

from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AccountState,
    CancelOrder,
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    PositionState,
    SubmitOrder,
)

JOURNAL_FILE = "journal.ndjson"


class SessionStart(msgspec.Struct, frozen=True, tag=True):
    """Written when a daemon session opens the journal: the starting point of recovery."""

    ts: int
    mode: str
    strategy: str
    cash: float
    params: dict[str, Any] = {}
    recovered: bool = False


class OpenOrderState(msgspec.Struct, frozen=True):
    order: SubmitOrder
    remaining: float


class Snapshot(msgspec.Struct, frozen=True, tag=True):
    """The books at a graceful stop: recovery may start here instead of at the first record."""

    ts: int
    cash: float
    positions: tuple[PositionState, ...] = ()
    open_orders: tuple[OpenOrderState, ...] = ()
    last_order_seq: int = 0


Record = (SubmitOrder | CancelOrder | OrderAccepted | OrderRejected | OrderCanceled | Fill | AccountState
          | SessionStart | Snapshot)

JOURNALED_KEYS = (K.SUBMIT_ORDER, K.CANCEL_ORDER, K.ORDER_ACCEPTED, K.ORDER_REJECTED, K.ORDER_CANCELED, K.FILL)


def cut_torn_tail(path: Path) -> int:
    """Truncate an unterminated last line (a write cut by a crash); returns the bytes removed."""
    if not path.exists():
        return 0
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        keep = 0
        block = 65_536
        end = size
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            chunk = handle.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep


class Journal:
    """Writes journaled hub messages synchronously; attach it before every other agent."""

    name = "journal"

    def __init__(self, bus: Bus, directory: str | Path, fsync_every: int = 64, fsync_interval: float = 0.005,
                 on_failure: Callable[[str], None] | None = None,
                 write: Callable[[int, Any], int] = os.write, fsync: Callable[[int], None] = os.fsync) -> None:
        """``write`` and ``fsync`` are the system calls (a fault test injects failing ones)."""
        if fsync_every < 1 or not fsync_interval > 0:
            raise ValueError("journal needs fsync_every >= 1 and fsync_interval > 0")
        self.bus = bus
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / JOURNAL_FILE
        self.fsync_every = fsync_every
        self.fsync_interval = fsync_interval
        self.on_failure = on_failure
        self._write = write
        self._fsync = fsync
        self.failed: str | None = None  # why writing stopped; None while healthy
        self.lost = 0  # records offered after the failure (the failing one included)
        self.torn_bytes_cut = cut_torn_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._encode = msgspec.json.Encoder().encode
        self._log = logwood.get_logger(self.name)
        self._account_key: tuple[Any, ...] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._syncing: asyncio.Future[None] | None = None
        self.written = 0
        self.synced = 0
        self.syncs = 0
        if self.torn_bytes_cut:
            self._log.warning("Journal %s: cut a torn last line (%d bytes) before appending",
                              str(self.path), self.torn_bytes_cut)

    def attach(self) -> None:
        for key in JOURNALED_KEYS:
            self.bus.subscribe(self.name, key, self.append)
        self.bus.subscribe(self.name, K.ACCOUNT, self.on_account)

    # ------------------------------------------------------------ writing

    def append(self, record: Any) -> None:
        """Write one record now (kernel), schedule its fsync (disk); on a failure, fail closed."""
        if self.failed is not None:
            self.lost += 1
            return
        data = self._encode(record) + b"\n"
        view = memoryview(data)
        try:
            while view:
                view = view[self._write(self._fd, view):]
        except OSError as exc:
            self.lost += 1
            self._fail(f"writing {type(record).__name__} failed: {exc}")
            return
        self.written += 1
        if self.written - self.synced >= self.fsync_every:
            self._sync_soon(now=True)
        elif self._timer is None and self._syncing is None:
            self._sync_soon(now=False)

    def on_account(self, state: AccountState) -> None:
        """Journal an account state only when cash or a position changed (not every mark to market)."""
        key = (state.cash, tuple((p.instrument, p.size, p.avg_price) for p in state.positions))
        if key != self._account_key:
            self._account_key = key
            self.append(state)

    # ------------------------------------------------------------ fsync batching

    def _sync_soon(self, now: bool) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): sync inline at the batch size
            if now:
                self.sync()
            return
        if now:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._start_sync(loop)
        elif self._timer is None:
            self._timer = loop.call_later(self.fsync_interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.written > self.synced:
            self._start_sync(asyncio.get_running_loop())

    def _start_sync(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._syncing is not None:
            return  # the running sync's completion starts the next one
        target = self.written
        self._syncing = loop.run_in_executor(None, self._fsync, self._fd)
        self._syncing.add_done_callback(lambda f: self._synced(f, target))

    def _synced(self, future: asyncio.Future[None], target: int) -> None:
        self._syncing = None
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self._fail(f"fsync failed: {exc}")
            return
        self.syncs += 1
        self.synced = max(self.synced, target)
        if self.written > self.synced and self._fd >= 0:
            self._sync_soon(now=self.written - self.synced >= self.fsync_every)

    def sync(self) -> None:
        """fsync now, inline: everything written so far is on disk when this returns (unless it failed)."""
        if self._fd < 0 or self.failed is not None:
            return
        try:
            self._fsync(self._fd)
        except OSError as exc:
            self._fail(f"fsync failed: {exc}")
            return
        self.syncs += 1
        self.synced = self.written

    def fsync_now(self) -> None:
        """fsync from any thread (the stop deadline's), touching no counter; errors are ignored."""
        fd = self._fd
        if fd >= 0:
            try:
                self._fsync(fd)
            except OSError:
                pass

    def _fail(self, reason: str) -> None:
        """Stop writing for good and tell the daemon once: it halts order flow."""
        if self.failed is not None:
            return
        self.failed = reason
        self._log.error("Journal %s: %s; halting order flow (records written %d, synced %d)",
                        str(self.path), reason, self.written, self.synced)
        if self.on_failure is not None:
            self.on_failure(f"journal: {reason}")

    async def flush(self) -> None:
        """Wait for a running background sync, then sync the rest."""
        if self._syncing is not None:
            try:
                await self._syncing
            except Exception:
                pass
        self.sync()

    def close(self) -> None:
        """Final inline fsync and close; safe to call twice."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._fd < 0:
            return
        self.sync()
        os.close(self._fd)
        self._fd = -1

    def status(self) -> dict[str, Any]:
        return {"path": str(self.path), "written": self.written, "synced": self.synced, "syncs": self.syncs,
                "failed": self.failed, "lost": self.lost, "torn_bytes_cut": self.torn_bytes_cut}
