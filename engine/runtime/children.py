"""Child processes a run starts for itself: whether it may, and that none outlives it.

Two parts of a run spawn a helper process: the market data's parse ahead of
the replay, and the results writer. Both follow the same rules: no child
from a daemonic process (a sweep's workers cannot have children) or on one
CPU (it would only compete with the replay), a warning that goes to the
run's log, and any child its owner never stopped is killed at exit.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util  # noqa: F401  (registers its exit hook first: ours, registered below, runs before it)
import os
from multiprocessing.process import BaseProcess

import logwood

live: set[BaseProcess] = set()  # started and not yet stopped by their owners


def may_spawn() -> bool:
    """True unless this process is daemonic or has one CPU to run on.

    Raises in a spawned child still importing its parent's unguarded main
    script (see :func:`bootstrapping`): the child would otherwise run the
    script's whole run again, beside its parent, writing the same files.
    """
    if bootstrapping():
        raise RuntimeError(
            "a spawned helper process is re-running the main script: run it under "
            "'if __name__ == \"__main__\":' (see the multiprocessing docs, 'Safe importing of main module')"
        )
    if multiprocessing.current_process().daemon:
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus > 1


def bootstrapping() -> bool:
    """True in a spawned child still importing its parent's main script: a script run as a file without an
    ``if __name__ == "__main__":`` guard. Starting a child there fails, and must: falling back to work
    in-process would run the whole script (a backtest...) again inside the child."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def warn(logger: str, message: str) -> None:
    """To the run's log (logwood, once configured: it refuses loggers before), else to the standard one."""
    if logwood.state.config_called:
        logwood.get_logger(logger).warning(message)
    else:
        logging.getLogger(logger).warning(message)


@atexit.register
def _kill_leftovers() -> None:
    """At exit, the children never stopped (the parent is ending: nothing more will come)."""
    for process in list(live):
        if process.is_alive():
            process.kill()
        process.join()


def stop(process: BaseProcess, finished: bool) -> None:
    """End a child by its own handle: joined if it ``finished`` its work, else (or if it hangs) killed."""
    try:
        if finished:
            process.join(timeout=10)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        live.discard(process)
