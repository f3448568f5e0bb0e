"""Runtime health to StatsD: loop lag, slow callbacks and handlers, per-agent and trading metrics.

Off unless configured. :class:`metrics.session.MetricsSession` is the one
entry point (``engine.runtime.health.metrics_for`` builds it from the config);
the metric names it sends are in ``metrics/names.py`` and in the README's table.
"""

import hub  # noqa: F401  (first: it honours ENGINE_PURE_PYTHON before any compiled module loads)
