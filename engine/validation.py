"""Checking a config table against its typed schema, every problem at once, in the user's words.

The schema is the config's own types (``engine.config``): dataclasses or
msgspec Structs whose fields carry ``Annotated[..., msgspec.Meta(...)]``
ranges and ``Literal`` choices. msgspec does the type checking (strict: a
string is never a number, only ``true``/``false`` is a boolean) but stops at
the first error, so each key is checked on its own and every finding is kept:
``run.toml: [broker] cash: expected a finite number > 0, got "abc"``. Numbers
must also be finite (TOML has ``inf`` and ``nan``; no setting means them).
Rules between keys (a type's ``__post_init__``) run once every key is right.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import json
import math
import re
import typing
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import inspect as mi


class ConfigError(ValueError):
    """Everything wrong with a config, one line per problem (each names the file or flag, table and key)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            text = problems[0]
        else:
            text = f"{len(problems)} problems in the configuration:\n" + "\n".join(f"  {p}" for p in problems)
        super().__init__(text)


def shown(value: Any) -> str:
    """A value as the user wrote it in TOML: strings in double quotes, ``true``, ``inf``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return repr(value)


@functools.cache
def fields_of(cls: type) -> dict[str, Any]:
    """Field name -> annotated type (``Annotated`` kept: it holds the ranges); the types do not change."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:
        names = list(cls.__struct_fields__)
    return {name: hints[name] for name in names}


def check_table(cls: type, table: Any, where: str, label: str) -> tuple[Any, list[str]]:
    """``table`` (a dict from TOML) as an instance of ``cls``, or None and the problems found.

    ``where`` prefixes every message (the file, or "command line"); ``label``
    names the table (``[broker]``; "" for the top level).
    """
    prefix = f"{where}: {label} " if label else f"{where}: "
    if not isinstance(table, Mapping):
        return None, [f"{where}: {label or 'the top level'}: expected a table, got {shown(table)}"]
    known = fields_of(cls)
    problems = []
    for key, value in table.items():
        if key not in known:
            problems.append(f"{prefix}{key}: unknown key{_suggest(key, known)}")
            continue
        problem = check_value(known[key], value)
        if problem:
            problems.append(f"{prefix}{key}: {problem}")
    if problems:
        return None, problems
    try:
        return msgspec.convert(dict(table), cls, strict=True), []
    except (msgspec.ValidationError, ValueError, TypeError) as exc:  # a rule between keys (__post_init__)
        text = re.sub(r" - at `\$[^`]*`$", "", str(exc))
        text = re.sub(r"^\[[a-z_.]+\] ", "", text)  # a type's own message may name its table already
        return None, [f"{prefix}{text}".rstrip()]


def check_value(hint: Any, value: Any) -> str | None:
    """Why ``value`` does not fit ``hint`` ("expected ..., got ..."), or None when it does."""
    try:
        converted = msgspec.convert(value, hint, strict=True)
    except msgspec.ValidationError:
        return f"expected {describe(mi.type_info(hint))}, got {shown(value)}"
    if isinstance(converted, float) and not math.isfinite(converted):
        return f"expected {describe(mi.type_info(hint))}, got {shown(value)}"
    return None


def describe(info: mi.Type) -> str:
    """What a type accepts, in words: ``a finite number > 0``, ``true or false``, ``one of "a", "b"``."""
    if isinstance(info, mi.UnionType):
        parts = [describe(t) for t in info.types if not isinstance(t, mi.NoneType)]
        return " or ".join(dict.fromkeys(parts)) or "nothing"
    if isinstance(info, mi.BoolType):
        return "true or false"
    if isinstance(info, mi.FloatType):
        return "a finite number" + _bounds(info)
    if isinstance(info, mi.IntType):
        return "an integer" + _bounds(info)
    if isinstance(info, mi.StrType):
        if info.min_length:
            return "a non-empty string"
        return "a string"
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(shown(v) for v in info.values)
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return f"a list of {_plural(info.item_type)}"
    if isinstance(info, mi.DictType):
        keys = info.key_type
        value = _plural(info.value_type)
        if isinstance(keys, mi.LiteralType):
            return f"a table of {value} with keys among " + ", ".join(str(v) for v in keys.values)
        return f"a table of {value}"
    if isinstance(info, mi.AnyType):
        return "any value"
    if isinstance(info, mi.NoneType):
        return "nothing"
    return type(info).__name__


def _plural(info: mi.Type) -> str:
    text = describe(info)
    for single, many in (("a finite number", "finite numbers"), ("an integer", "integers"),
                         ("a string", "strings"), ("a non-empty string", "non-empty strings"),
                         ("true or false", "booleans"), ("any value", "values")):
        text = text.replace(single, many)
    return text


def _bounds(info: mi.FloatType | mi.IntType) -> str:
    low = ("(", info.gt) if info.gt is not None else ("[", info.ge) if info.ge is not None else None
    high = (")", info.lt) if info.lt is not None else ("]", info.le) if info.le is not None else None
    if low and high:
        return f" in {low[0]}{_num(low[1])}, {_num(high[1])}{high[0]}"
    if low:
        return f" {'>' if low[0] == '(' else '>='} {_num(low[1])}"
    if high:
        return f" {'<' if high[0] == ')' else '<='} {_num(high[1])}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _suggest(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (known: {', '.join(sorted(known))})"
