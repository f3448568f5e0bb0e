"""Which process owns a folder or a claim: a small file naming it, so a dead owner's leftovers can be told apart.

A run writes its results into a hidden staging folder and renames it into
place at the end; a run killed on the way leaves that folder behind. With
the owner's identity inside, the next run in the same place removes it once
that process is gone, and never touches one whose owner still runs (two
runs may share an output parent). The identity is the PID and, where
``/proc`` tells it, the process's start time, so a recycled PID does not
pass for the old owner.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_FILE = ".owner"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def identity(pid: int | None = None) -> str:
    """``"<pid> <start time>"`` of this process (or ``pid``)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid} {_start_time(pid)}".strip()


def alive(owner: str) -> bool:
    """Whether the process an identity names still runs (an unreadable identity counts as alive: hands off)."""
    parts = owner.split()
    try:
        pid = int(parts[0])
    except (IndexError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    if len(parts) > 1:
        started = _start_time(pid)
        return not started or started == parts[1]
    return True


def mark(folder: Path) -> None:
    """Record this process as ``folder``'s owner."""
    (folder / OWNER_FILE).write_text(identity() + "\n")


def unmark(folder: Path) -> None:
    (folder / OWNER_FILE).unlink(missing_ok=True)


def owner_of(folder: Path) -> str | None:
    """The identity recorded in ``folder``, or None when it has none (not ours to judge)."""
    try:
        return (folder / OWNER_FILE).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return "unreadable"


def abandoned(folder: Path) -> bool:
    """True for a folder marked by a process that no longer runs."""
    owner = owner_of(folder)
    return owner is not None and not alive(owner)


class Busy(RuntimeError):
    """Another live process holds the lock."""


class FolderLock:
    """An exclusive ``flock`` on a file in a folder, held while a process writes there.

    The kernel drops the lock when its holder dies, so a killed process never
    leaves a stale one. The file stays (removing it would let a second
    process lock a new file while a third still holds the old one); it names
    the last holder, for the message.
    """

    def __init__(self, path: Path) -> None:
        import fcntl

        self.path = path
        handle = open(path, "a+")  # noqa: SIM115 - held open while locked
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip().split(" ")[0] or "another process"
            handle.close()
            raise Busy(f"{path.parent} is being written by process {holder} (a sweep still running)") from None
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(identity() + "\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        self._handle.close()  # closing drops the lock

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
