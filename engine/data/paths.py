"""Turn the user's ``paths`` (files, directories, globs) into an ordered file list.

The order matters: it is the last tie-breaker of the merged stream, so it must
not depend on the file system's listing order. Directories contribute their
``*.csv`` files sorted by name; glob matches are sorted too; explicit files keep
the order given.
"""

from __future__ import annotations

import glob
import os

from engine.data.errors import DataError

_GLOB_CHARS = set("*?[")


def resolve_paths(paths: str | os.PathLike | list[str | os.PathLike]) -> list[str]:
    """Files to read, in order, without duplicates; DataError if a path matches nothing."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files: list[str] = []
    for item in paths:
        item = os.fspath(item)
        if os.path.isdir(item):
            found = sorted(
                os.path.join(item, name) for name in os.listdir(item) if name.lower().endswith(".csv")
            )
            found = [f for f in found if os.path.isfile(f)]
            if not found:
                raise DataError(item, None, None, "directory holds no .csv file")
        elif _GLOB_CHARS & set(item):
            found = sorted(f for f in glob.glob(item) if os.path.isfile(f))
            if not found:
                raise DataError(item, None, None, "pattern matches no file")
        elif os.path.isfile(item):
            found = [item]
        else:
            raise DataError(item, None, None, "no such file or directory")
        for f in found:
            if f not in files:
                files.append(f)
    if not files:
        raise DataError("<paths>", None, None, "no input file given")
    return files
