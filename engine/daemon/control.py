"""The control server (aiohttp): health, status, a graceful stop and a WebSocket of state snapshots.

``GET /`` -> the live dashboard (``static/dashboard.html``: equity curve,
cash, positions with P&L, open orders, recent fills and rejections, loop lag,
queues, errors, from ``/ws``); ``GET /health`` -> ``{"ok": true}``; ``GET /status`` -> the status
collector's snapshot; ``POST /stop`` -> asks the daemon to stop gracefully
(202); ``GET /profile?seconds=N`` -> N seconds of the running daemon sampled
by py-spy, as speedscope JSON (:mod:`engine.runtime.profiling`); ``GET /ws`` -> a WebSocket that pushes a snapshot every
``push_interval`` seconds (250 ms) until the client or the daemon closes it.

Bound to 127.0.0.1 by default. A non-loopback address is refused unless a
token is configured; with a token, every request must carry
``Authorization: Bearer <token>`` or gets 401 (on loopback too).

No web page can drive it (a page's JavaScript runs on the operator's machine,
where loopback is reachable):

* ``Host`` must be an allowed name (loopback names, the bound address, and
  ``[daemon] control_hosts``), or the request gets 403: a DNS-rebound name
  pointing at 127.0.0.1 is refused.
* ``Origin``, when a browser sends one, must be this server's own origin
  (``http://<allowed host>:<port>``), on every request and on the WebSocket
  handshake: a foreign page's fetch, form post or WebSocket gets 403.
* Requests that change state (``POST /stop``, ``GET /profile``) need the
  token when one is set, else the ``X-Engine-Control`` header, which no
  cross-origin page can send without a CORS preflight this server never
  grants. A ``text/plain`` form post therefore cannot stop the daemon.
* A malformed request (a header that is not ASCII, a bad parameter) gets a
  4xx and one log line; an unexpected failure a 500 and one log line, never
  a traceback in the response.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import logwood
import msgspec
from aiohttp import WSMsgType, web

from engine.runtime.profiling import ProfilerUnavailable, profile_process
from engine.runtime.ticker import RealTimeTicker

Snapshot = Callable[[], dict[str, Any] | Awaitable[dict[str, Any]]]


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


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
CONTROL_HEADER = "X-Engine-Control"
STATE_CHANGING = frozenset({("POST", "/stop"), ("GET", "/profile")})
MAX_PROFILE_S = 60
DASHBOARD = Path(__file__).with_name("static") / "dashboard.html"


def host_name(header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:8080`` -> ``::1``), lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class ControlServer:
    def __init__(self, snapshot: Snapshot, request_stop: Callable[[str], None], host: str = "127.0.0.1",
                 port: int = 0, token: str | None = None, push_interval: float = 0.25,
                 allowed_hosts: tuple[str, ...] = (), health: Callable[[], dict[str, Any]] | None = None,
                 profile: Callable[[float], Awaitable[bytes]] | None = None) -> None:
        """``snapshot()`` may return the status or an awaitable of it (taken on another loop);
        ``health()`` adds to ``/health``'s answer (its ``ok`` decides the HTTP status: 200 or 503);
        ``profile(seconds)`` gives ``/profile`` its speedscope JSON (default: py-spy on this process)."""
        if not is_loopback(host) and not token:
            raise ValueError(f"refusing to serve control on non-loopback {host!r} without a token "
                             "(set [daemon] control_token or bind 127.0.0.1)")
        self.snapshot = snapshot
        self.health_of = health
        self.profile_of = profile or profile_process
        self._profiling = False
        self.request_stop = request_stop
        self.host = host
        self.port = port
        self.token = token
        self.push_interval = push_interval
        self.allowed_hosts = frozenset(h.lower().strip("[]") for h in (*LOOPBACK_NAMES, host, *allowed_hosts))
        self.refused = 0  # requests answered 4xx by the checks here
        self._log = logwood.get_logger("control")
        self._runner: web.AppRunner | None = None
        self._ticker = RealTimeTicker(push_interval, self._on_tick, name="control-push")
        self._next_tick: asyncio.Future[None] | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.app = web.Application(middlewares=[self._contained, self._same_origin, self._auth])
        self.app.add_routes([
            web.get("/", self.dashboard),
            web.get("/health", self.health),
            web.get("/status", self.status),
            web.post("/stop", self.stop),
            web.get("/ws", self.websocket),
            web.get("/profile", self.profile),
        ])

    # ------------------------------------------------------------ the checks, outermost first

    @web.middleware
    async def _contained(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Whatever goes wrong in a request ends as one log line and a JSON error, never a traceback."""
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except (UnicodeError, ValueError) as exc:
            return self._refuse(request, 400, f"malformed request: {type(exc).__name__}")
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:
            self._log.error("Control request %s %s failed: %s", request.method, request.path, repr(exc))
            return web.json_response({"error": "internal error"}, status=500)

    @web.middleware
    async def _same_origin(self, request: web.Request, handler: Any) -> web.StreamResponse:
        host = host_name(request.headers.get("Host", ""))
        if host not in self.allowed_hosts:
            return self._refuse(request, 403, "host not allowed")
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self._origins():
            return self._refuse(request, 403, "origin not allowed")
        return await handler(request)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.token:
            if not self._token_given(request):
                self._refuse(request, 401, "unauthorized", log_only=True)
                return web.json_response({"error": "unauthorized"}, status=401,
                                         headers={"WWW-Authenticate": "Bearer"})
        elif (request.method, request.path) in STATE_CHANGING and CONTROL_HEADER not in request.headers:
            return self._refuse(request, 403, f"state-changing request needs the token or the {CONTROL_HEADER} header")
        return await handler(request)

    def _token_given(self, request: web.Request) -> bool:
        expected = f"Bearer {self.token}".encode()
        given = request.headers.get("Authorization", "")
        if not given and request.path == "/ws":  # a browser's WebSocket cannot set headers: the page passes it
            given = "Bearer " + request.query.get("token", "")
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)

    def _origins(self) -> frozenset[str]:
        port = self.port
        names = [f"[{h}]" if ":" in h else h for h in self.allowed_hosts]
        return frozenset(f"{scheme}://{name}{suffix}" for scheme in ("http", "https") for name in names
                         for suffix in (f":{port}", ""))

    def _refuse(self, request: web.Request, status: int, reason: str, log_only: bool = False) -> web.Response:
        self.refused += 1
        self._log.warning("Control request refused (%d %s): %s %s from %s, Host %r, Origin %r", status, reason,
                          request.method, request.path, str(request.remote),
                          request.headers.get("Host", ""), request.headers.get("Origin", ""))
        return web.json_response({"error": reason}, status=status)

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

    async def dashboard(self, request: web.Request) -> web.Response:
        """The live dashboard: one static page that reads ``/ws`` (same origin, so the checks let it in)."""
        return web.Response(body=DASHBOARD.read_bytes(), content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                                     "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors 'none'"})

    async def health(self, request: web.Request) -> web.Response:
        answer = {"ok": True, **(self.health_of() if self.health_of is not None else {})}
        return web.json_response(answer, status=200 if answer["ok"] else 503)

    async def _snapshot(self) -> dict[str, Any]:
        snap = self.snapshot()
        if inspect.isawaitable(snap):
            snap = await snap
        return snap  # type: ignore[return-value]

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(await self._snapshot(), dumps=_dumps)

    async def stop(self, request: web.Request) -> web.Response:
        self._log.warning("Stop requested over the control API from %s", str(request.remote))
        self.request_stop("control API")
        return web.json_response({"stopping": True}, status=202)

    async def profile(self, request: web.Request) -> web.Response:
        """``?seconds=N`` (1..60, default 5) of the running daemon as speedscope JSON, one profile at a time."""
        try:
            seconds = float(request.query.get("seconds", "5"))
        except ValueError:
            seconds = -1.0
        if not 1 <= seconds <= MAX_PROFILE_S:
            return self._refuse(request, 400, f"seconds must be a number from 1 to {MAX_PROFILE_S}")
        if self._profiling:
            return self._refuse(request, 409, "a profile is being taken")
        self._profiling = True
        try:
            self._log.warning("Profiling the daemon for %.0f s (asked from %s)", seconds, str(request.remote))
            body = await self.profile_of(seconds)
        except ProfilerUnavailable as exc:
            self._log.error("Profile failed: %s", str(exc))
            return web.json_response({"error": str(exc)}, status=503)
        finally:
            self._profiling = False
        return web.Response(body=body, content_type="application/json", headers={
            "Content-Disposition": 'attachment; filename="daemon.speedscope.json"'})

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        reader = asyncio.get_running_loop().create_task(self._drain(ws))
        try:
            while not ws.closed and not reader.done():
                await ws.send_str(_dumps(await self._snapshot()))
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
