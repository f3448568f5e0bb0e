"""``python -m engine``: see engine/cli/main.py."""

import signal
import sys

if sys.argv[1:2] == ["run"]:
    # The daemon hears SIGTERM/SIGINT on a thread of its own (engine/daemon/signals.py), which needs them
    # blocked in every thread: block them before any import starts one (numpy's BLAS starts a pool).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})

from engine.cli.main import main  # noqa: E402 - after the signal mask, on purpose

sys.exit(main())
