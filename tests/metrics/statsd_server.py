"""StatsD servers for the metrics tests: a bare UDP receiver, and the real npm ``statsd`` daemon.

The daemon is the one ``make statsd-server`` installs under tools/statsd. It
binds loopback only, on free ports, with a flush interval of an hour so
counters and timers are not reset while a test reads them; it is read
through its admin port and stopped by PID.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.paths import ROOT as REPO_ROOT

ROOT = REPO_ROOT
STATS_JS = ROOT / "tools" / "statsd" / "node_modules" / "statsd" / "stats.js"


class UdpReceiver:
    """What a StatsD server receives, as lines: bind 127.0.0.1:0, point the client here."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"

    def lines(self, quiet: float = 0.2) -> list[str]:
        """Every line received until nothing arrives for ``quiet`` seconds."""
        self.sock.settimeout(quiet)
        lines: list[str] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return lines
            lines.extend(data.decode("ascii").split("\n"))

    def close(self) -> None:
        self.sock.close()


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def why_no_daemon() -> str | None:
    """None when the real daemon can run here, else the reason for the skip."""
    if shutil.which("node") is None:
        return "node is not installed: the StatsD integration tests need the npm statsd daemon (make statsd-server)"
    if not STATS_JS.exists():
        return f"{STATS_JS.relative_to(ROOT)} is missing: run `make statsd-server` (needs npm)"
    return None


_NAME = r"(?:'([^']*)'|([A-Za-z_$][\w$]*))"
_NUMBER_ENTRY = re.compile(_NAME + r":\s*(-?[\d.]+(?:e[+-]?\d+)?)")
_LIST_ENTRY = re.compile(_NAME + r":\s*\[([^\]]*)\]")
_MORE = re.compile(r"\.\.\. (\d+) more items?")


def parse_numbers(text: str) -> dict[str, float]:
    """The admin port's ``counters`` / ``gauges`` answer (Node's util.inspect of an object)."""
    return {quoted or bare: float(value) for quoted, bare, value in _NUMBER_ENTRY.findall(text)}


def parse_timer_counts(text: str) -> dict[str, int]:
    """The admin port's ``timers`` answer, as the number of samples per timer."""
    counts = {}
    for quoted, bare, body in _LIST_ENTRY.findall(text):
        more = _MORE.search(body)
        listed = _MORE.sub("", body)
        counts[quoted or bare] = len(re.findall(r"-?[\d.]+(?:e[+-]?\d+)?", listed)) + (int(more.group(1)) if more else 0)
    return counts


class StatsdDaemon:
    """The npm statsd daemon on loopback: ``address`` for clients, ``counters()`` etc. to read it back."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port(socket.SOCK_DGRAM)
        self.admin_port = free_port(socket.SOCK_STREAM)
        self.address = f"127.0.0.1:{self.port}"
        config = {
            "address": "127.0.0.1", "port": self.port,
            "mgmt_address": "127.0.0.1", "mgmt_port": self.admin_port,
            "flushInterval": 3_600_000, "backends": [], "automaticConfigReload": False,
        }
        self.config_path = workdir / "statsd-config.js"
        self.config_path.write_text(json.dumps(config))
        self.log_path = workdir / "statsd.log"
        self._log = self.log_path.open("w")
        node = shutil.which("node")
        assert node is not None
        self.process = subprocess.Popen([node, str(STATS_JS), str(self.config_path)], stdout=self._log,
                                        stderr=subprocess.STDOUT, cwd=workdir)

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the admin port answers and a probe datagram has been counted."""
        deadline = time.monotonic() + timeout
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"statsd exited with {self.process.returncode}: {self.log_path.read_text()}")
                try:
                    probe.sendto(b"mx_test.ready:1|c", ("127.0.0.1", self.port))
                    if self.counters().get("mx_test.ready"):
                        return
                except OSError:
                    pass
                time.sleep(0.05)
        finally:
            probe.close()
        raise RuntimeError(f"statsd did not come up in {timeout} s: {self.log_path.read_text()}")

    def admin(self, command: str) -> str:
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=5.0) as conn:
            conn.sendall(command.encode() + b"\n")
            answer = b""
            while b"END" not in answer and b"ERROR" not in answer:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        return answer.decode()

    def counters(self) -> dict[str, float]:
        return parse_numbers(self.admin("counters"))

    def gauges(self) -> dict[str, float]:
        return parse_numbers(self.admin("gauges"))

    def timer_counts(self) -> dict[str, int]:
        return parse_timer_counts(self.admin("timers"))

    def wait_for_counter(self, name: str, at_least: float, timeout: float = 10.0) -> dict[str, float]:
        """UDP is asynchronous: poll until ``name`` reaches ``at_least`` (or time out), then a last read."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.counters().get(name, 0) < at_least:
            time.sleep(0.05)
        time.sleep(0.2)  # the rest of the final flush
        return self.counters()

    def stop(self) -> None:
        """By PID: terminate, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
