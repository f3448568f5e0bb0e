"""The StatsD client: pystatsd over UDP, made safe to call from the event loop.

pystatsd already swallows send errors (a server that is down costs nothing).
Two more guarantees here: the socket is non-blocking, so a full send buffer
drops a datagram instead of stalling the loop; and a closed client ignores
late sends (a loop-lag task or a watchdog that outlives the session) instead
of raising ``AttributeError`` on its ``None`` socket.
"""

from __future__ import annotations

import socket

from statsd import StatsClient

from metrics.address import StatsdAddress


class LoopSafeStatsClient(StatsClient):
    def __init__(self, address: StatsdAddress, prefix: str | None) -> None:
        # The resolved IP, so pystatsd's own getaddrinfo does no DNS lookup.
        super().__init__(address.ip, address.port, prefix=prefix or None, ipv6=address.family == socket.AF_INET6)
        self._sock.setblocking(False)

    def _send(self, data: str) -> None:
        sock = self._sock  # read once: close() may run on another thread
        if sock is None:
            return
        try:
            sock.sendto(data.encode("ascii"), self._addr)
        except OSError:
            pass  # server down, buffer full, socket closed under us: metrics never break a run

    @property
    def closed(self) -> bool:
        return self._sock is None
