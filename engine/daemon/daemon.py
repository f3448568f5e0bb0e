"""The long-lived daemon: the backtest's agents on a live feed or a replay, observable, stoppable, durable.

Two buses, one boundary:

* **ingress** -- the feed (or the replay source) publishes trades, quotes and
  bars here; the bar builder turns trades into bars here. Nothing slow lives
  on it, so reading the socket never waits for a strategy.
* **main** -- the same agents ``build_pipeline`` wires for a backtest
  (broker, model state, strategy host), in the same order, with the journal
  attached before them and the results recorder and status collector after.

Bars and quotes cross from ingress to main through one bounded inbox drained
by one task: when the strategy lags, market data is conflated (latest per
instrument and type, counted and logged); orders and fills live on the main
bus, delivered synchronously, and are never dropped.

Stop (SIGTERM, SIGINT, ``POST /stop``): at once, no more queued market data
reaches the strategy (the backlog is dropped and counted; a 200 ms-a-bar
strategy finishes the bar it is on and no other); then stop the source,
cancel every open order (``CancelOrder``, journaled; the final snapshot holds
none), publish ``EndOfData``, journal a
:class:`~engine.daemon.journal.Snapshot` and fsync, write ``status.json``,
close the control server -- within ``stop_timeout``, a deadline kept by a
thread (:mod:`engine.daemon.deadline`) so it holds even when a strategy never
gives the loop back. At the end of a replay the inbox is drained instead:
every bar is delivered.
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import logwood
import msgspec

from agents.bar_builder import BarBuilderAgent
from agents.live_feed import Backoff, LiveFeedAgent
from engine.config import Config
from engine.daemon.control import ControlServer, parse_listen
from engine.daemon.control_thread import ControlThread, LoopSnapshots
from engine.daemon.deadline import StopDeadline
from engine.daemon.error_policy import StrategyErrorPolicy, cancel_all
from engine.daemon.gate import GatedBus, OrderGate
from engine.daemon.journal import Journal, OpenOrderState, SessionStart, Snapshot
from engine.daemon.recovery import Recovered, recover
from engine.daemon.replay_source import ReplaySource, replay_events
from engine.daemon.restore import restore_books
from engine.daemon.results_history import TeeBus, mark_complete, mark_incomplete, replay_history
from engine.daemon.status import StatusCollector
from engine.pipeline import STRATEGY_NAME, Pipeline, build_pipeline
from engine.results.recorder import Recorder
from engine.runtime.clocks import LiveClock, LoopClock
from engine.runtime.ticker import within_real_seconds
from hub import keys as K
from hub.bus import Bus, Monitor
from hub.messages import Bar, EndOfData, SubmitOrder

STATUS_FILE = "status.json"
EXIT_STOP_DEADLINE = 1  # the graceful stop did not finish in time
EXIT_HALTED = 3  # order flow was halted (the journal failed): the run is not what it should have been


def conflate_by_instrument(key: Any, msg: Any) -> Any:
    """Market data keeps only the latest per (type, instrument) when the inbox is full."""
    return (key, msg.instrument)


@dataclass
class DaemonResult:
    exit_code: int
    reason: str
    status: dict[str, Any]


class Daemon:
    def __init__(self, config: Config, out_dir: str | Path | None = None, monitor: Monitor | None = None,
                 on_bus: Any = None, on_ingress_bus: Any = None, on_halt: Any = None,
                 journal_options: dict[str, Any] | None = None, on_deadline: Any = None,
                 handle_signals: bool = True) -> None:
        """``on_bus(bus)`` sees the main bus; ``on_ingress_bus(bus)`` the feed side (metrics: its inbox depth);
        ``on_halt(reason)`` hears when order flow halts (metrics: a gauge)."""
        settings = config.daemon
        if bool(settings.feed) == bool(settings.replay):
            raise ValueError("run needs exactly one input: --feed tcp://HOST:PORT or --replay PATH ...")
        self.config = config
        self.settings = settings
        self.mode = "live" if settings.feed else "replay"
        self.out_dir = Path(out_dir) if out_dir else None
        self.monitor = monitor
        self.on_bus = on_bus
        self.on_ingress_bus = on_ingress_bus
        self.on_halt = on_halt
        self.handle_signals = handle_signals  # False: the caller hears them (run_daemon's SignalWatcher thread)
        self.journal_options = journal_options or {}  # extra Journal arguments (fault tests inject its system calls)
        self.dropped_halted = 0  # market data not forwarded because order flow was halted
        self.stopping = False  # set (from any thread) when a stop is asked: the backlog stops flowing at once
        self.dropped_at_stop = 0  # market data queued when the stop came, never delivered
        self.cancelled_at_stop: list[str] = []
        self.history_records = 0  # journal records replayed into the results files on a restart
        # kept from outside the loop, a little after the loop's own: that one still writes the status when it can
        self.deadline = StopDeadline(config.daemon.stop_timeout + 0.5, on_deadline)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_timed_out = False
        self._log = logwood.get_logger("daemon")
        self._stop: asyncio.Event | None = None
        self.stop_reason = ""
        self.recovered: Recovered | None = None
        # built in run(), inside the loop
        self.bus: Bus
        self.ingress: Bus
        self.pipeline: Pipeline
        self.collector: StatusCollector
        self.journal: Journal | None = None
        self.feed: LiveFeedAgent | None = None
        self.replay: ReplaySource | None = None
        self.bar_builder: BarBuilderAgent
        self.recorder: Recorder | None = None
        self.control: ControlThread | None = None
        self.final_status: dict[str, Any] = {}

    # ------------------------------------------------------------ control

    def request_stop(self, reason: str) -> None:
        """Ask for a graceful stop (signal handler, control API, tests; on the loop); the first reason wins."""
        self.stopping = True
        self.deadline.arm()
        if not self.stop_reason:
            self.stop_reason = reason
            self._log.warning("Stopping: %s", reason)
        if self._stop is not None:
            self._stop.set()

    def request_stop_threadsafe(self, reason: str) -> None:
        """The same from another thread (the control server's, a signal watcher): the backlog stops now."""
        self.stopping = True
        self.deadline.arm()
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self.request_stop, reason)
            except RuntimeError:  # the loop has closed: the daemon is done
                pass

    def _halted(self, reason: str) -> None:
        """Order flow stopped (the journal failed): say so everywhere; the stop will exit non-zero."""
        self.collector.state = "halted"
        if self.on_halt is not None:
            self.on_halt(reason)

    # ------------------------------------------------------------ wiring

    def _wire(self) -> None:
        settings = self.settings
        clock = LiveClock() if self.mode == "live" else LoopClock()
        self.clock = clock
        self.bus = bus = Bus(clock=clock, monitor=self.monitor)
        self.ingress = ingress = Bus(clock=clock)
        self.gate = gate = OrderGate(bus, clock)
        gate.on_halt.append(self._halted)
        if settings.journal:
            self.recovered = recover(settings.journal, accept_corrupt=settings.journal_accept_corrupt)
            self.journal = Journal(bus, settings.journal, fsync_every=settings.fsync_every,
                                   fsync_interval=settings.fsync_interval_ms / 1000.0, on_failure=gate.halt,
                                   **self.journal_options)
            self.journal.attach()  # first: written before anyone acts on it
        self.pipeline = build_pipeline(  # status and gauges follow every bar
            bus, clock, self.config, marks_every=1,
            broker_bus=GatedBus(bus, {K.SUBMIT_ORDER: gate.orders_to}),
            host_bus=GatedBus(bus, {K.MARKET_STATE: lambda handler: gate.data_to(STRATEGY_NAME, handler)}))
        gate.on_halt.append(self.pipeline.broker.halt)  # a journal failure mid-bar: the broker fills nothing more
        self.error_policy = StrategyErrorPolicy(bus, clock, gate, STRATEGY_NAME, settings.strategy_max_errors,
                                                self.pipeline.broker.open_orders)
        self.error_policy.attach()
        if self.out_dir is not None:
            restarted = self.recovered is not None and not self.recovered.empty
            history = Bus(clock=clock) if restarted else None
            self.recorder = Recorder(TeeBus(bus, history) if history is not None else bus, self.out_dir)
            self.recorder.attach()
            if history is not None:
                assert self.recovered is not None
                self.history_records = replay_history(history, self.recovered)
            mark_incomplete(self.out_dir)
        self.collector = collector = StatusCollector(bus, clock, self.mode)
        collector.attach()
        collector.watched.append(ingress)
        ingress.subscribe(collector.name, K.TRADE, collector.on_market)

        self.bar_builder = BarBuilderAgent(ingress, clock, settings.bar_interval, grace=settings.bar_grace)
        self.bar_builder.attach()
        forward = bus.publish

        def to_pipeline(msg: Any) -> None:
            if self.stopping:  # a requested stop: the backlog is not worth a strategy's time
                self.dropped_at_stop += 1
                return
            if gate.halted is not None:  # no fill may happen that the journal cannot record
                self.dropped_halted += 1
                return
            forward(K.BAR if type(msg) is Bar else K.QUOTE, msg)

        ingress.subscribe_queue("pipeline", [K.BAR, K.QUOTE], to_pipeline, maxsize=settings.queue_size,
                                conflate=conflate_by_instrument)
        if self.mode == "live":
            backoff = Backoff(base=settings.backoff_base, cap=max(settings.backoff_cap, settings.backoff_base),
                              seed=settings.backoff_seed)
            self.feed = LiveFeedAgent(ingress, clock, settings.feed or "", backoff=backoff)
            collector.sources["feed"] = lambda: {**self.feed.stats.as_dict(), "url": self.feed.url,  # type: ignore[union-attr]
                                                 "refused_by_rule": self.feed.rules.status(),  # type: ignore[union-attr]
                                                 "backoff_history": list(self.feed.backoff.history)[-10:]}  # type: ignore[union-attr]
        else:
            assert isinstance(clock, LoopClock)
            data = self.config.data
            self.replay = ReplaySource(ingress, clock, replay_events(
                settings.replay, format=data.format, skip_bad=data.skip_bad, columns=data.columns or None,
                delimiter=data.delimiter, adjust=data.adjust, sort=data.sort))
            collector.sources["replay"] = lambda: {"published": self.replay.published,  # type: ignore[union-attr]
                                                   "time_dilation": settings.time_dilation}
        if self.journal is not None:
            collector.sources["journal"] = self.journal.status
        collector.sources["order_flow"] = lambda: {**gate.status(), "dropped_market_data": self.dropped_halted,
                                                   "strategy_errors": self.error_policy.errors,
                                                   "strategy_max_errors": settings.strategy_max_errors}
        collector.sources["bars_built"] = lambda: {"bars": self.bar_builder.bars, "late": self.bar_builder.late}
        if self.recovered is not None and not self.recovered.empty:
            restore_books(self.pipeline, self.recovered)
            positions = {i: {"size": p.size, "avg_price": p.price, "last_price": p.last, "realized_pnl": p.realized}
                         for i, p in self.recovered.positions.items()}
            collector.restore(self.recovered.cash, positions,
                              {oid: o.order.instrument for oid, o in self.recovered.open_orders.items()})
            collector.sources["recovered"] = self.recovered.summary
            self._log.warning("Recovered from journal: %s", json.dumps(self.recovered.summary()))
        if self.on_bus is not None:
            self.on_bus(bus)
        if self.on_ingress_bus is not None:
            self.on_ingress_bus(self.ingress)

    # ------------------------------------------------------------ running

    async def run(self) -> DaemonResult:
        loop = self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.stop_reason:
            self._stop.set()
        self._wire()
        signals = []
        for sig in (signal.SIGTERM, signal.SIGINT) if self.handle_signals else ():
            try:
                loop.add_signal_handler(sig, self.request_stop, sig.name)
                signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
                pass
        source: asyncio.Task[Any] | None = None
        exit_code = 0
        try:
            if self.settings.control:
                host, port = parse_listen(self.settings.control)
                snapshots = LoopSnapshots(loop, self.collector.snapshot)
                settings = self.settings
                self.control = ControlThread(lambda: ControlServer(
                    snapshots, self.request_stop_threadsafe, host, port, token=settings.control_token,
                    allowed_hosts=settings.control_hosts, health=self._health))
                await self.control.start()
            if self.journal is not None:
                self.journal.append(SessionStart(
                    ts=self.clock(), mode=self.mode, strategy=self.config.strategy.name, cash=self.config.broker.cash,
                    params=dict(self.config.strategy.params), recovered=bool(self.recovered and not self.recovered.empty)))
            for agent in self.pipeline.agents:
                agent.start()
            self.collector.start()
            self.ingress.start()
            if self.feed is not None:
                self.feed.start()
            else:
                assert self.replay is not None
                resume = self.recovered.last_ts if self.recovered and not self.recovered.empty else None
                source = loop.create_task(self.replay.run(after_ts=resume), name="replay")
            stopper = loop.create_task(self._stop.wait())
            waiting = {stopper} if source is None else {stopper, source}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if source is not None and source in done and not self.stop_reason:
                source.result()  # a failing replay raises here
                self.stop_reason = "end of replay"
            stopper.cancel()
            if self.stop_reason == "end of replay":
                self.stopping = False  # the data ended by itself: every queued bar is delivered
            try:
                await within_real_seconds(self._shutdown(source), self.settings.stop_timeout)
            except TimeoutError:
                self._log.error("Graceful stop took longer than %.1f s: closing anyway", self.settings.stop_timeout)
                exit_code = EXIT_STOP_DEADLINE
                self._stop_timed_out = True
            if self.gate.halted is not None:
                self._log.error("Exiting with code %d: order flow was halted (%s)", EXIT_HALTED, self.gate.halted)
                exit_code = EXIT_HALTED
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await self._close_everything(source)
            self.deadline.disarm()
        return DaemonResult(exit_code, self.stop_reason, self.final_status)

    def deadline_kept(self) -> bool:
        """The stop finished in time: the results files are whole."""
        return not self.deadline.expired and not self._stop_timed_out

    def _health(self) -> dict[str, Any]:
        """Answered on the control thread: is the daemon's loop turning (its lag probe ticks every 50 ms)?"""
        idle = self.collector.lag.idle_s()
        return {"ok": idle < 1.0 and self.gate.halted is None, "loop_idle_s": round(idle, 3),
                "halted": self.gate.halted, "stopping": self.stopping}

    async def _shutdown(self, source: asyncio.Task[Any] | None) -> None:
        """Graceful part: stop input, drain, end of data, snapshot. Bounded by stop_timeout."""
        end_of_replay = self.stop_reason == "end of replay"
        if self.feed is not None:
            await self.feed.close()
        if source is not None and not source.done():
            source.cancel()
        if end_of_replay:
            self.bar_builder.flush()
        else:
            self.bar_builder.stop()
            for inbox in self.ingress.inboxes:
                self.dropped_at_stop += inbox.drop_market_data()
        await self._drain_ingress()
        self.collector.state = "stopping"
        if self.gate.halted is None:
            self.cancelled_at_stop = cancel_all(self.bus, self.clock, self.pipeline.broker.open_orders())
        self.bus.publish(K.END_OF_DATA, EndOfData(ts=self.clock(), reason=self.stop_reason))
        for agent in self.pipeline.agents:
            agent.stop()
        snapshot = self.books_snapshot()
        self.collector.cash = snapshot.cash  # the final status is the journal's snapshot, to the cent
        self.collector.take_positions(snapshot.positions)
        self.collector.open_orders = {o.order.order_id: o.order.instrument for o in snapshot.open_orders}
        if self.journal is not None:
            self.journal.append(snapshot)
            await self.journal.flush()

    async def _drain_ingress(self) -> None:
        """Let the pipeline inbox empty (bounded by the real-time stop deadline around it)."""
        while any(len(inbox) for inbox in self.ingress.inboxes):
            await asyncio.sleep(0)

    async def _close_everything(self, source: asyncio.Task[Any] | None) -> None:
        """Always runs, also after a timeout: nothing is left open, the status file is written."""
        if source is not None and not source.done():
            source.cancel()
        if self.feed is not None:
            self.feed.stop()
        await self.ingress.stop()
        await self.collector.lag.stop()
        self.collector.state = "stopped"
        self.final_status = self.collector.snapshot()
        self.final_status["stop_reason"] = self.stop_reason
        self.final_status["stop"] = {"dropped_market_data": self.dropped_at_stop,
                                     "cancelled_orders": self.cancelled_at_stop[:100],
                                     "cancelled_count": len(self.cancelled_at_stop)}
        if self.control is not None:
            await self.control.close()
        if self.recorder is not None:
            self.recorder.close()
        if self.journal is not None:
            self.journal.close()
        target = self.out_dir or (Path(self.settings.journal) if self.settings.journal else None)
        if target is not None:
            try:
                target.mkdir(parents=True, exist_ok=True)
                (target / STATUS_FILE).write_bytes(msgspec.json.format(msgspec.json.encode(self.final_status)) + b"\n")
            except OSError as exc:  # a full disk must not turn a stop into a traceback
                self._log.error("Could not write %s: %s", str(target / STATUS_FILE), repr(exc))
        if self.out_dir is not None and self.deadline_kept():
            mark_complete(self.out_dir)
        self.bus.unsubscribe_all()
        self.ingress.unsubscribe_all()

    def books_snapshot(self) -> Snapshot:
        """The broker's books; orders cancelled at this stop are not open any more."""
        broker = self.pipeline.broker
        cancelled = set(self.cancelled_at_stop)
        positions = broker.position_states()
        open_orders = tuple(
            OpenOrderState(order=SubmitOrder(ts=o.ts, order_id=o.order_id, strategy=o.strategy, instrument=o.instrument,
                                             side=o.side, size=o.size, order_type=o.order_type,
                                             limit_price=o.limit_price, stop_price=o.stop_price,
                                             signal_price=o.signal_price),
                           remaining=o.remaining)
            for o in broker.open_orders() if o.order_id not in cancelled)
        return Snapshot(ts=self.clock(), cash=broker.cash, positions=positions, open_orders=open_orders,
                        last_order_seq=self.pipeline.host.order_seq)
