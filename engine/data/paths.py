"""Turn the user's ``paths`` (files, directories, globs) into an ordered file list, or say exactly what is wrong.

The order matters: it is the last tie-breaker of the merged stream, so it must
not depend on the file system's listing order. Directories contribute their
``*.csv`` and ``*.parquet`` files sorted by name; glob matches are sorted too;
explicit files keep the order given.

A path that is not a regular readable file is named for what it is: a named
pipe or a device (a file is read more than once: header, then rows; a pipe
cannot be, and ``/dev/zero`` never ends), a directory without data files, a
broken symbolic link. "No such file" is said only of what does not exist.
"""

from __future__ import annotations

import glob
import os
import stat

from engine.data.errors import DataError

DATA_SUFFIXES = (".csv", ".parquet")
_GLOB_CHARS = set("*?[")
_KINDS = (
    (stat.S_ISDIR, "a directory, not a file"),
    (stat.S_ISFIFO, "a named pipe (FIFO), not a file: the data is read more than once (header, then rows), "
                    "which a pipe cannot do; save it to a file first"),
    (stat.S_ISCHR, "a character device, not a file"),
    (stat.S_ISBLK, "a block device, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
)


def what_is_wrong(path: str) -> str | None:
    """Why ``path`` is not a regular file this process can read, in words; None when it is one."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a symbolic link to {os.readlink(path)!r}, which does not exist"
        return "no such file or directory"
    except NotADirectoryError:
        return "no such file: a part of the path before it is a file, not a directory"
    except PermissionError:
        return "permission denied: a directory on the way cannot be searched"
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISREG(mode):
        return None if os.access(path, os.R_OK) else "permission denied: the file is not readable"
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def check_file(path: str) -> str:
    """``path`` if it is a regular readable file; else DataError saying what it is."""
    why = what_is_wrong(path)
    if why is not None:
        raise DataError(path, None, None, why)
    return path


def data_files_in(directory: str) -> list[str]:
    """The directory's data files (regular files named ``*.csv`` or ``*.parquet``), sorted by name."""
    names = sorted(os.listdir(directory))
    return [os.path.join(directory, n) for n in names
            if n.lower().endswith(DATA_SUFFIXES) and what_is_wrong(os.path.join(directory, n)) is None]


def no_data_files(directory: str) -> str:
    """Why a directory gave no file, with what it does hold."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return f"cannot list the directory ({exc.strerror or exc})"
    if not names:
        return "directory is empty: no .csv or .parquet file"
    shown = ", ".join(n + ("/" if os.path.isdir(os.path.join(directory, n)) else "") for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"directory holds no .csv or .parquet file (it holds {shown}{more})"


def resolve_paths(paths: str | os.PathLike | list[str | os.PathLike]) -> list[str]:
    """Files to read, in order, without duplicates; DataError naming a path that gives none, and why."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files: list[str] = []
    for item in paths:
        item = os.fspath(item)
        if os.path.isdir(item):
            found = data_files_in(item)
            if not found:
                raise DataError(item, None, None, no_data_files(item))
        elif _GLOB_CHARS & set(item) and not os.path.lexists(item):
            matches = sorted(glob.glob(item))
            found = [f for f in matches if what_is_wrong(f) is None]
            if not found:
                why = f"pattern matches no file; {matches[0]} is {what_is_wrong(matches[0])}" if matches else \
                    "pattern matches no file"
                raise DataError(item, None, None, why)
        else:
            found = [check_file(item)]
        for f in found:
            if f not in files:
                files.append(f)
    if not files:
        raise DataError("<paths>", None, None, "no input file given")
    return files
