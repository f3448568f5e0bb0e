"""Builds the compiled hot path (Cython); everything else is declared in pyproject.toml.

Why compiled: the per-bar arithmetic of a backtest (exact-sum indicators) is
C work that costs ~20x more as Python objects; see agents/model_state/source.pyx.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = [
    Extension("hub.fields", ["hub/fields.pyx"]),
    Extension("hub.route", ["hub/route.pyx"]),
    Extension("engine.data.bar_batch", ["engine/data/bar_batch.pyx"]),
    Extension("agents.model_state.source", ["agents/model_state/source.pyx"]),
    Extension("agents.model_state.kernel", ["agents/model_state/kernel.pyx"]),
    Extension("agents.broker.account", ["agents/broker/account.pyx"]),
    Extension("agents.broker.orders", ["agents/broker/orders.pyx"]),
    Extension("agents.broker.bar_path", ["agents/broker/bar_path.pyx"]),
    Extension("agents.host_path", ["agents/host_path.pyx"]),
    Extension("metrics.arrivals", ["metrics/arrivals.pyx"]),
    Extension("metrics.stall_poll", ["metrics/stall_poll.pyx"]),
    Extension("engine.results.book", ["engine/results/book.pyx"]),
]

setup(ext_modules=cythonize(EXTENSIONS, compiler_directives={"language_level": 3}))
