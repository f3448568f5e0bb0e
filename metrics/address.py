"""``HOST:PORT`` for StatsD: checked and resolved once, at start.

A malformed address or a host name that does not resolve is a configuration
error, reported before the run starts. Resolving once means no DNS lookup on
the hot path and no run that stalls because a resolver is slow.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class StatsdAddress:
    host: str  # as configured, for messages
    ip: str  # resolved
    port: int
    family: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_host_port(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8125"`` -> ``("127.0.0.1", 8125)``; ``[::1]:8125`` for IPv6."""
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text:
        raise ValueError(f"statsd address {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8125")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"statsd address {text!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"statsd address {text!r}: port {port} is outside 1-65535")
    return host, port


def resolve(text: str) -> StatsdAddress:
    host, port = parse_host_port(text)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"statsd address {text!r}: cannot resolve host {host!r} ({exc})") from None
    family, _, _, _, sockaddr = infos[0]
    return StatsdAddress(host=host, ip=sockaddr[0], port=port, family=family)
