"""Nanny preload: ``dask worker ADDRESS --preload-nanny engine.sweep.dask_nanny``.

Why a preload: the environment of a worker process is decided by its
nanny before the worker exists, so the sweep client cannot fix it later.
Dask imports this module in the nanny before it reads
``distributed.nanny.pre-spawn-environ``; the override happens at import.
"""

from engine.sweep.dask_exec import apply_worker_settings

apply_worker_settings()


def dask_setup(nanny: object) -> None:
    """Nothing more to do once the nanny starts: the setting was applied at import."""
