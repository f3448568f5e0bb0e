"""Which modules run compiled, and the switch that runs their Python sources instead.

The compiled core is optional mechanics: every compiled module is a plain
``.py`` file with a ``.pxd`` beside it, built by Cython when a C compiler is
there (``setup.py``). Python imports an extension module in preference to a
source file of the same name, so once built the ``.so`` runs. Setting
``ENGINE_PURE_PYTHON=1`` makes this process import the ``.py`` sources of our
packages instead, e.g. to step through them in pdb, measure coverage, or
prove that the results do not depend on the compilation (CI runs the parity
tests both ways). It takes effect when the first of our packages is imported:
each package's ``__init__`` imports ``hub`` first, and ``hub`` installs it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

PACKAGES = ("agents", "engine", "hub", "metrics", "strategies")
ENV = "ENGINE_PURE_PYTHON"


class SourceFirst(importlib.abc.MetaPathFinder):
    """Finds our modules' ``.py`` source where an extension module of the same name would be imported."""

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None) -> object:
        if fullname.partition(".")[0] not in PACKAGES or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)  # type: ignore[arg-type]
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return None
        source = Path(spec.origin).with_name(fullname.rpartition(".")[2] + ".py")
        return importlib.util.spec_from_file_location(fullname, source) if source.exists() else None


def pure_requested() -> bool:
    return os.environ.get(ENV, "").strip().lower() not in ("", "0", "false", "no")


def install() -> None:
    """Put :class:`SourceFirst` in front of the import system if ``ENGINE_PURE_PYTHON`` asks for it (once)."""
    if pure_requested() and not any(isinstance(f, SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, SourceFirst())


def compiled_modules() -> dict[str, bool]:
    """Every module meant to be compiled (a ``.py`` with a ``.pxd`` beside it) -> whether it runs compiled now."""
    root = Path(__file__).resolve().parents[1]
    status = {}
    for package in PACKAGES:
        for pxd in sorted((root / package).rglob("*.pxd")):
            if not pxd.with_suffix(".py").exists():
                continue
            name = ".".join(pxd.relative_to(root).with_suffix("").parts)
            module = importlib.import_module(name)
            status[name] = isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)
    return status


def describe() -> str:
    """One line for run reports and benchmarks: ``compiled core: 9 of 9 modules`` or why not."""
    status = compiled_modules()
    done = sum(status.values())
    if pure_requested():
        return f"compiled core: off ({ENV} is set; {len(status)} modules run as Python)"
    if done == len(status):
        return f"compiled core: {done} of {len(status)} modules"
    missing = ", ".join(name for name, ok in status.items() if not ok)
    return f"compiled core: {done} of {len(status)} modules (pure Python: {missing})"
