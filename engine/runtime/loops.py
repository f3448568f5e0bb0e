"""Event-loop factories: uvloop for live trading, time-dilated and virtual-time loops for replays and tests.

Why our own: aiodebug's ``TimeDilatedLoop`` is the design card's dilated
loop, but as shipped (2.3.0) it

* picks its base class at import time from ``asyncio.get_event_loop()``
  (uvloop's if that policy is installed, or whatever loop is running), and
  creates a stray loop doing so -- we load it against an explicit base;
* crashes (``None / float``) when the loop waits on I/O with no timer
  pending -- we pass ``None`` through;
* overshoots by up to ``dilation`` x 1 ms of loop time per wake-up, because
  epoll rounds its timeout up to whole milliseconds -- we sleep whole
  milliseconds and poll the sub-millisecond rest;
* hangs on ``inf`` and misbehaves on ``<= 0`` -- we refuse them.

No dilated or virtual loop can be built on uvloop (its loop is Cython and
does not expose the selector), so replays and tests run on the stdlib
selector loop and the engine stays loop-agnostic: every run takes its loop
from :func:`loop_factory_for`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import selectors
from collections.abc import Callable
from typing import Any

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

VIRTUAL = "virtual"
_SELECT_RESOLUTION = 0.001  # epoll/poll take whole milliseconds and round up


class _ClassOnly:
    """Answers ``.__class__`` with the given class: what aiodebug's module asks of get_event_loop()."""

    def __init__(self, cls: type) -> None:
        self._cls = cls

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D401 - mimics an instance of ``cls``
        return self._cls


def aiodebug_dilated_loop_on(base: type[asyncio.AbstractEventLoop]) -> type:
    """aiodebug's ``TimeDilatedLoop`` class built on ``base``, whatever policy or loop is current.

    Executes a private copy of ``aiodebug.testing.time_dilated_loop`` while
    ``asyncio.get_event_loop`` answers ``base``; ``sys.modules`` is left alone,
    so nobody else's import is affected and no stray loop is created.
    """
    spec = importlib.util.find_spec("aiodebug.testing.time_dilated_loop")
    if spec is None or spec.loader is None:  # pragma: no cover - pinned dependency
        raise ImportError("aiodebug.testing.time_dilated_loop is not installed")
    module = importlib.util.module_from_spec(spec)
    original = asyncio.get_event_loop
    asyncio.get_event_loop = lambda: _ClassOnly(base)  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        asyncio.get_event_loop = original  # type: ignore[assignment]
    return module.TimeDilatedLoop


def check_dilation(value: Any) -> float:
    """A usable dilation: a finite number above zero (``inf`` would hang the loop)."""
    try:
        dilation = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"time dilation must be a number, got {value!r}") from None
    if not math.isfinite(dilation) or dilation <= 0:
        raise ValueError(f"time dilation must be finite and > 0, got {value!r} (use 'virtual' for as fast as possible)")
    return dilation


def _block_for(real: float) -> float:
    """Whole milliseconds to block, rounded down; under one millisecond, poll (0).

    The selector rounds its timeout up to whole milliseconds; handing it
    ``n - 0.5`` ms makes that ``n`` exactly, and the loop polls through the
    sub-millisecond rest, so a wake-up is never late by more than an iteration.
    """
    whole_ms = int(real / _SELECT_RESOLUTION)
    if whole_ms <= 0:
        return 0.0
    return (whole_ms - 0.5) * _SELECT_RESOLUTION


_AiodebugDilatedLoop = aiodebug_dilated_loop_on(asyncio.SelectorEventLoop)


class DilatedLoop(_AiodebugDilatedLoop):  # type: ignore[misc, valid-type]
    """Loop time runs ``time_dilation`` times faster than real time (settable while running).

    Timers keep their order at any dilation; only the real time between them
    shrinks. Overshoot per wake-up is one loop iteration x dilation instead
    of up to 1 ms x dilation.
    """

    def __init__(self, dilation: float = 1.0, selector: selectors.BaseSelector | None = None) -> None:
        self._dilation = 1.0
        super().__init__()  # aiodebug's: sets time_dilation = 1.0 and wraps select (replaced below)
        self.time_dilation = dilation
        real_select = type(self._selector).select.__get__(self._selector)

        def select(timeout: float | None = None) -> list[Any]:
            if timeout is None:  # waiting on I/O only: no timer to scale
                return real_select(None)
            return real_select(_block_for(timeout / self._dilation))

        self._selector.select = select  # type: ignore[method-assign]

    @property
    def time_dilation(self) -> float:
        return self._dilation

    @time_dilation.setter
    def time_dilation(self, value: float) -> None:
        self._dilation = check_dilation(value)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Loop time advances only by jumping to the next timer when the loop is idle.

    Idle means no ready callback and no I/O ready on a non-blocking poll; then
    the clock jumps by the whole timeout instead of sleeping it. Time spent
    computing is not loop time, so the order of timers and events is the
    same on any machine. Real I/O is still served: polled every iteration,
    and waited for (really) when no timer is pending. A peer's latency is not
    time in this world: a ``wait_for`` on a real socket may time out at once
    while a timer is pending, so talk to real peers on :class:`DilatedLoop`.
    """

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        # A timer is due when ``when < time() + resolution``. asyncio's 1 ns
        # resolution is below a float's step once loop time passes ~10^7 s
        # (months of replayed data): ``now + 1e-9 == now`` and a timer due
        # exactly now would never run while the loop spins. 1 us is exact to ~10^9 s.
        self._clock_resolution = max(self._clock_resolution, 1e-6)
        self._virtual_now = float(start)
        self.jumps = 0
        real_select = self._selector.select

        def select(timeout: float | None = None) -> list[Any]:
            if timeout is None or timeout <= 0:
                return real_select(timeout)
            events = real_select(0)
            if events:
                return events
            self._virtual_now += timeout
            self.jumps += 1
            return events

        self._selector.select = select  # type: ignore[method-assign]

    def time(self) -> float:
        return self._virtual_now


# ---------------------------------------------------------------- factories


def stdlib_loop() -> asyncio.AbstractEventLoop:
    """The stdlib selector loop: backtests and tests that need real time."""
    return asyncio.SelectorEventLoop()


def uvloop_loop() -> asyncio.AbstractEventLoop:
    """uvloop: the live daemon's loop (lower latency; no dilation, no slow-callback hooks)."""
    import uvloop

    return uvloop.new_event_loop()


def dilated_loop(dilation: float) -> LoopFactory:
    """A factory of :class:`DilatedLoop` at ``dilation`` (checked now, not at first use)."""
    dilation = check_dilation(dilation)
    return lambda: DilatedLoop(dilation)


def virtual_time_loop() -> asyncio.AbstractEventLoop:
    """A :class:`VirtualTimeLoop`: replays and timer-heavy tests as fast as the CPU allows."""
    return VirtualTimeLoop()


def loop_factory_for(mode: str, dilation: float | str | None = None) -> LoopFactory:
    """The loop a run mode needs.

    ``live`` -> uvloop; ``replay`` -> :class:`DilatedLoop` at ``dilation``, or
    :class:`VirtualTimeLoop` when ``dilation`` is ``"virtual"``;
    ``backtest`` / ``test`` -> the stdlib selector loop.
    """
    if mode == "live":
        return uvloop_loop
    if mode == "replay":
        if isinstance(dilation, str) and dilation.strip().lower() == VIRTUAL:
            return virtual_time_loop
        return dilated_loop(1.0 if dilation is None else dilation)  # type: ignore[arg-type]
    if mode in ("backtest", "test"):
        return stdlib_loop
    raise ValueError(f"unknown run mode {mode!r} (live, replay, backtest, test)")
