"""The README's metric table is what dashboards are built from: it must list every name sent."""

import inspect
import re

from metrics import names
from tests.paths import ROOT as REPO_ROOT

README = REPO_ROOT / "README.md"


def documented() -> set[str]:
    return set(re.findall(r"^\| `([^`]+)`", README.read_text(), flags=re.MULTILINE))


def sent() -> set[str]:
    constants = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str) and "." in v}
    templated = set()
    for _, fn in inspect.getmembers(names, inspect.isfunction):
        params = list(inspect.signature(fn).parameters)
        if fn.__module__ != names.__name__ or fn.__name__ in ("part", "handler_part"):
            continue
        placeholders = {"agent": "AGENTX", "handler": "HANDLERX", "instrument": "INSTRUMENTX"}
        name = fn(*[placeholders[p] for p in params])
        for param, text in placeholders.items():
            name = name.replace(text, "{" + param + "}")
        templated.add(name)
    return constants | templated


def test_every_metric_name_is_in_the_readme_table():
    table = documented()
    # a row may list variants together: `agent.{agent}.handled` / `.errors`
    missing = {n for n in sent() if n not in table}
    assert not missing, f"metric names sent but not in the README table: {sorted(missing)}"
