"""The control server (aiohttp): health, status, a graceful stop and a WebSocket of state snapshots.

``GET /health`` -> ``{"ok": true}``; ``GET /status`` -> the status
collector's snapshot; ``POST /stop`` -> asks the daemon to stop gracefully
(202); ``GET /ws`` -> a WebSocket that pushes a snapshot every
``push_interval`` seconds (250 ms) until the client or the daemon closes it.

Bound to 127.0.0.1 by default. A non-loopback address is refused unless a
token is configured; with a token, every request must carry
``Authorization: Bearer <token>`` or gets 401 (on loopback too).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Callable
from typing import Any

import logwood
import msgspec
from aiohttp import WSMsgType, web

from engine.runtime.ticker import RealTimeTicker

Snapshot = Callable[[], dict[str, Any]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from outside


def parse_listen(address: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``PORT`` (127.0.0.1) -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", address
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise ValueError(f"control address must look like 127.0.0.1:PORT, got {address!r}")
    return host.strip("[]") or "127.0.0.1", number


def _dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class ControlServer:
    def __init__(self, snapshot: Snapshot, request_stop: Callable[[str], None], host: str = "127.0.0.1",
                 port: int = 0, token: str | None = None, push_interval: float = 0.25) -> None:
        if not is_loopback(host) and not token:
            raise ValueError(f"refusing to serve control on non-loopback {host!r} without a token "
                             "(set [daemon] control_token or bind 127.0.0.1)")
        self.snapshot = snapshot
        self.request_stop = request_stop
        self.host = host
        self.port = port
        self.token = token
        self.push_interval = push_interval
        self._log = logwood.get_logger("control")
        self._runner: web.AppRunner | None = None
        self._ticker = RealTimeTicker(push_interval, self._on_tick, name="control-push")
        self._next_tick: asyncio.Future[None] | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes([
            web.get("/health", self.health),
            web.get("/status", self.status),
            web.post("/stop", self.stop),
            web.get("/ws", self.websocket),
        ])

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return web.json_response({"error": "unauthorized"}, status=401,
                                         headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._next_tick = asyncio.get_running_loop().create_future()
        self._ticker.start()
        self._log.info("Control server on http://%s:%d", self.host, self.port)

    def _on_tick(self, posted_at: float) -> None:
        """A real-time tick: wake every WebSocket pusher (loop time may be dilated or virtual)."""
        tick, self._next_tick = self._next_tick, asyncio.get_running_loop().create_future()
        if tick is not None and not tick.done():
            tick.set_result(None)

    async def close(self) -> None:
        self._ticker.stop()
        if self._next_tick is not None and not self._next_tick.done():
            self._next_tick.set_result(None)
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ routes

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot(), dumps=_dumps)

    async def stop(self, request: web.Request) -> web.Response:
        self._log.warning("Stop requested over the control API from %s", str(request.remote))
        self.request_stop("control API")
        return web.json_response({"stopping": True}, status=202)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        reader = asyncio.get_running_loop().create_task(self._drain(ws))
        try:
            while not ws.closed and not reader.done():
                await ws.send_str(_dumps(self.snapshot()))
                assert self._next_tick is not None
                await asyncio.wait([asyncio.shield(self._next_tick), reader], return_when=asyncio.FIRST_COMPLETED)
        except (ConnectionError, RuntimeError):
            pass  # the client went away mid-send
        finally:
            reader.cancel()
            self._sockets.discard(ws)
            await ws.close()
        return ws

    async def _drain(self, ws: web.WebSocketResponse) -> None:
        """Read (and ignore) what the client sends, so a close frame is noticed."""
        async for msg in ws:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
