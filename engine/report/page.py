"""One self-contained HTML page: plotly.js embedded once, then tables and charts. Opens offline.

Every figure in a table cell carries ``data-key`` (its dotted path in
summary.json) and ``data-value`` (the number as summary.json holds it), so
a test in a real browser can hold what is shown to the file.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
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


def page(title: str, meta: str, sections: Iterable[str]) -> str:
    from plotly.offline import get_plotlyjs

    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n",
        "<script type=\"text/javascript\">", get_plotlyjs(), "</script>\n</head>\n<body>\n",
        f"<h1>{html.escape(title)}</h1>\n<div class=\"meta\">{meta}</div>\n",
        *sections,
        "</body>\n</html>\n",
    ])


def chart(figure: Any, div_id: str) -> str:
    """A figure as a div and its script (no plotly.js: the page has it once); the id makes it deterministic."""
    return f"<div class=\"chart\">{figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=CONFIG)}</div>\n"


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
