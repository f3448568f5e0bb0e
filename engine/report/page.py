"""One self-contained HTML page: plotly.js embedded once, then tables and charts. Opens offline.

Every figure in a table cell carries ``data-key`` (its dotted path in
summary.json) and ``data-value`` (the number as summary.json holds it), so
a test in a real browser can hold what is shown to the file.
"""

from __future__ import annotations

import html
import importlib.util
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.results.table import Line

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 4px; } h2 { font-size: 1.1em; margin-top: 28px; }
.meta { color: #666; font-size: 0.9em; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { min-width: 600px; flex: 1 1 600px; }
.failed { color: #b00; }
"""

CONFIG = {"displaylogo": False, "responsive": True}


def plotly_js() -> str:
    """plotly.js as the plotly package ships it, read without importing the package (its import is slow)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("plotly is not installed (pip install -e '.[research]')")
    return (Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def page(title: str, meta: str, sections: Iterable[str]) -> str:
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n",
        "<script type=\"text/javascript\">", plotly_js(), "</script>\n</head>\n<body>\n",
        f"<h1>{html.escape(title)}</h1>\n<div class=\"meta\">{meta}</div>\n",
        *sections,
        "</body>\n</html>\n",
    ])


def chart(figure: dict[str, Any], div_id: str) -> str:
    """A figure spec as a div and the script that draws it (plotly.js is on the page once).

    Drawn once the page is laid out: a chart sized while its neighbours do not exist yet would
    take the whole row and overflow it.
    """
    spec = json.dumps([figure["data"], figure["layout"], CONFIG], allow_nan=False, separators=(",", ":"))
    spec = spec.replace("</", "<\\/")  # no text in the data can close the script element
    return (f"<div class=\"chart\"><div id=\"{div_id}\" class=\"plot\"></div><script type=\"text/javascript\">"
            f"document.addEventListener(\"DOMContentLoaded\", () => Plotly.newPlot(\"{div_id}\", ...{spec}));"
            "</script></div>\n")


def figure_table(lines: Sequence[Line], table_id: str = "stats") -> str:
    rows = []
    for line in lines:
        attributes = ""
        if line.key is not None:
            attributes = f" data-key=\"{html.escape(line.key)}\" data-value=\"{html.escape(json.dumps(line.value))}\""
        rows.append(f"<tr{attributes}><th>{html.escape(line.label)}</th>"
                    f"<td class=\"num\">{html.escape(line.text)}</td></tr>")
    return f"<table id=\"{table_id}\">\n" + "\n".join(rows) + "\n</table>\n"


def plain_table(header: Sequence[str], rows: Iterable[Sequence[Any]], table_id: str, classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f" class=\"{classes[i]}\"" if i < len(classes) and classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td class=\"num\">{html.escape(str(c))}</td>" for c in row) + "</tr>")
    return f"<table id=\"{table_id}\">\n<tr>{head}</tr>\n" + "\n".join(body) + "\n</table>\n"
