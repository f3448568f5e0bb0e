"""Builds the optional compiled core; everything else is declared in pyproject.toml.

The rule, visible in the tree: a plain Python module with a ``.pxd`` beside it
(``hub/route.py`` + ``hub/route.pxd``) is compiled by Cython in its pure-Python
mode, the ``.pxd`` giving C types to the same source. Nothing else changes:
without a C compiler (``CC=false``) the build warns and the same ``.py`` files
run as they are, slower and identical in every result. ``ENGINE_PURE_PYTHON=1``
runs the sources even where the compiled modules exist (see :mod:`hub.compiled`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PACKAGES = ("agents", "engine", "hub", "metrics", "strategies")
HERE = Path(__file__).resolve().parent


def compiled_modules() -> list[tuple[str, str]]:
    """(dotted name, source path) of every module that has a .pxd beside its .py."""
    found = []
    for package in PACKAGES:
        for pxd in sorted((HERE / package).rglob("*.pxd")):
            source = pxd.with_suffix(".py")
            if source.exists():
                relative = source.relative_to(HERE)
                found.append((".".join(relative.with_suffix("").parts), str(relative)))
    return found


def extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:  # no Cython: nothing to compile, the sources run as they are
        print("warning: Cython is not installed; the engine runs as pure Python", file=sys.stderr)
        return []
    modules = [Extension(name, [path]) for name, path in compiled_modules()]
    return cythonize(modules, compiler_directives={"language_level": 3}, quiet=True)


class OptionalBuildExt(build_ext):
    """A compiler that is missing or fails costs speed, never the install: each module falls back to its source."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # distutils' compiler and platform errors: no usable C compiler at all
            self._fallback("the compiled core", exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fallback(ext.name, exc)
            self.skipped.add(ext.name)

    def copy_extensions_to_source(self) -> None:
        """``--inplace``: copy the modules that were built; the others keep running from their sources."""
        built = self.extensions
        self.extensions = [ext for ext in built if ext.name not in self.skipped]
        try:
            super().copy_extensions_to_source()
        finally:
            self.extensions = built

    def initialize_options(self) -> None:
        super().initialize_options()
        self.skipped: set[str] = set()

    @staticmethod
    def _fallback(what: str, exc: Exception) -> None:
        print(f"warning: {what} was not compiled ({exc}); it runs as pure Python (same results, slower)",
              file=sys.stderr)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
