"""What the data left out of a run, written with its results: ``skipped.csv`` and the summary's counts.

Every row a run did not replay is listed, one line each: bad rows skipped
(``skip_bad``) and rows a format rule filters (A-share ``isopen`` false),
with the file, the physical line, the column, the field's text, the rule it
broke and the reason. The summary counts them per rule.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.data.errors import Report

SKIPPED_FILE = "skipped.csv"
COLUMNS = ["file", "line", "field", "value", "rule", "reason"]


def counts(report: Report) -> dict[str, Any]:
    """The summary's figures: rows skipped and filtered, how many per rule, and the notes (a file sorted...)."""
    return {
        "rows_skipped": len(report.skipped),
        "skipped_reasons": Report.counts(report.skipped),
        "rows_filtered": len(report.filtered),
        "filtered_reasons": Report.counts(report.filtered),
        "data_notes": list(report.notes),
    }


def write_skipped(out_dir: Path, report: Report, files: Sequence[str]) -> Path:
    """``skipped.csv`` (a header only when nothing was left out), by file in stream order, then line."""
    order = {path: i for i, path in enumerate(files)}
    rows = sorted([*report.skipped, *report.filtered], key=lambda r: (order.get(r.path, len(order)), r.path, r.line))
    path = out_dir / SKIPPED_FILE
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.path, row.line, row.field or "", row.value, row.rule, row.reason])
    return path
