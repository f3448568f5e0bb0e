"""Profiles of a running engine from py-spy, a sampling profiler that reads the process from outside.

Why py-spy: it samples the interpreter's stacks from another process, so the
profiled code runs as it always does -- a profiler inside the process (a
``setprofile`` hook on every call, as pyinstrument's) slowed a backtest by
30-80%. With ``--nonblocking`` it does not even pause the target; its own
sampling runs on the other core. Output is speedscope JSON (open it at
speedscope.app, or any viewer of that format), every thread included.

* :func:`profile_process` -- N seconds of a running daemon (``GET /profile``);
* :class:`ProfileRun` -- a whole backtest (``--profile FILE``): py-spy runs
  from the start until the run ends, then writes the file.
py-spy needs permission to read the process's memory (ptrace): the same user,
and ``kernel.yama.ptrace_scope`` 0 or 1 for a process profiling itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RATE = 100  # samples a second
STARTUP_S = 0.5  # py-spy's time to attach and take Ctrl-C; a shorter run waits this long at its end


class ProfilerUnavailable(RuntimeError):
    """py-spy is missing or may not read this process."""


def py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")  # installed with the engine, in its environment
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise ProfilerUnavailable("py-spy is not installed (pip install py-spy)")
    return found


def record_command(pid: int, out: str, seconds: float | None = None, rate: int = RATE, idle: bool = False) -> list[str]:
    """``idle``: sample waiting threads too (a daemon mostly waits, and where it waits matters)."""
    command = [py_spy(), "record", "--pid", str(pid), "--format", "speedscope", "--output", out,
               "--rate", str(rate), "--nonblocking", "--threads"] + (["--idle"] if idle else [])
    if seconds is not None:
        command += ["--duration", str(max(1, round(seconds)))]
    return command


async def profile_process(seconds: float, pid: int | None = None) -> bytes:
    """Speedscope JSON of ``seconds`` of this process (or ``pid``), every thread, waiting ones too."""
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "profile.speedscope.json")
        child = await asyncio.create_subprocess_exec(*record_command(pid or os.getpid(), out, seconds, idle=True),
                                                     stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.PIPE)
        _, err = await child.communicate()
        if child.returncode != 0 or not os.path.exists(out):
            raise ProfilerUnavailable(f"py-spy failed ({child.returncode}): {err.decode(errors='replace').strip()[-300:]}")
        return Path(out).read_bytes()


class ProfileRun:
    """``with ProfileRun(path): run()`` writes a speedscope profile of everything the block did."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._child: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ProfileRun:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._child = subprocess.Popen(record_command(os.getpid(), str(self.path)),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc: Any) -> None:
        child = self._child
        if child is None:
            return
        time.sleep(max(0.0, STARTUP_S - (time.monotonic() - self._started)))  # a Ctrl-C before it attached kills it
        child.send_signal(signal.SIGINT)  # py-spy writes its file and exits on Ctrl-C
        _, err = child.communicate(timeout=60)
        if not self.path.exists():
            raise ProfilerUnavailable(f"py-spy wrote no profile ({child.returncode}): "
                                      f"{err.decode(errors='replace').strip()[-300:]}")
