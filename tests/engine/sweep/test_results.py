"""Results: the table's columns and exact values, ranking that skips failures and NaN, heatmap cells."""

import csv
import math

import pyarrow.parquet as pq

from engine.sweep.results import (
    best_per_instrument,
    centred_range,
    columns_for,
    heatmap_values,
    ranked,
    ranking_lines,
    write_heatmap,
    write_heatmaps,
    write_tables,
)


def row(cell, instrument, fast, slow, ret, error=None, **more):
    return {"cell": cell, "instrument": instrument, "data": f"{instrument}.csv", "grid": {"fast": fast, "slow": slow},
            "total_return": ret, "max_drawdown": abs(ret) / 2 if ret is not None else None, "error": error, **more}


ROWS = [
    row(0, "A", 5, 20, 0.10), row(1, "A", 5, 40, 0.30), row(2, "A", 10, 20, -0.05), row(3, "A", 10, 40, None, "boom"),
    row(4, "B", 5, 20, 0.20), row(5, "B", 5, 40, math.nan), row(6, "B", 10, 20, 0.30), row(7, "B", 10, 40, 0.01),
]


def test_ranking_skips_failed_and_nan_rows_and_breaks_ties_by_cell():
    order = [r["cell"] for r in ranked(ROWS, "total_return")]
    assert order == [1, 6, 4, 0, 7, 2]
    assert [r["cell"] for r in ranked(ROWS, "max_drawdown")][:2] == [7, 2]  # lower is better
    assert [(r["instrument"], r["cell"]) for r in best_per_instrument(ROWS, "total_return")] == [("A", 1), ("B", 6)]
    text = "\n".join(ranking_lines(ROWS, ["fast", "slow"], "total_return", top=2))
    assert "best 2 of 6 by total_return:" in text and "30.00%" in text


def test_heatmap_is_the_mean_over_instruments_of_the_valid_cells_and_marks_failures(tmp_path):
    values, failed = heatmap_values(ROWS, {"fast": [5, 10], "slow": [20, 40]}, "total_return")
    assert values[0][0] == (0.10 + 0.20) / 2 and values[0][1] == 0.30 and values[1][0] == (-0.05 + 0.30) / 2
    assert values[1][1] == 0.01
    assert failed == [[False, False], [False, True]]
    one, failed_one = heatmap_values(ROWS, {"fast": [5, 10], "slow": [20, 40]}, "total_return", instrument="A")
    assert one[0][1] == 0.30 and math.isnan(one[1][1]) and failed_one[1][1]
    path = write_heatmap(ROWS, {"fast": [5, 10], "slow": [20, 40]}, "total_return", tmp_path / "h.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    paths = write_heatmaps(ROWS, {"fast": [5, 10], "slow": [20, 40]}, "total_return", tmp_path)
    assert [p.name for p in paths] == ["heatmap.png", "heatmap-A.png", "heatmap-B.png"]


def test_heatmap_colours_are_centred_on_zero():
    assert centred_range([[0.1, 0.3], [math.nan, 0.2]]) == (-0.3, 0.3)  # all gains: still centred, gains green
    assert centred_range([[-0.5, 0.1]]) == (-0.5, 0.5)
    assert centred_range([[math.nan]]) == (-1.0, 1.0)


def test_tables_keep_exact_floats_grid_columns_and_new_figures(tmp_path):
    rows = [dict(r, final_value=100_000.1 + r["cell"] / 3, reject_reasons={"cash": 2}, new_figure=r["cell"]) for r in ROWS]
    columns = columns_for(rows, ["fast", "slow"])
    assert columns[:5] == ["cell", "instrument", "data", "fast", "slow"]
    assert columns[-5:] == ["error", "seconds", "load_seconds", "data_source", "worker"]
    assert "new_figure" in columns and "grid" not in columns
    csv_path, parquet_path = write_tables(rows, ["fast", "slow"], tmp_path)
    with open(csv_path) as handle:
        text = list(csv.DictReader(handle))
    table = pq.read_table(parquet_path)
    assert [float(t["final_value"]) for t in text] == [r["final_value"] for r in rows] == table["final_value"].to_pylist()
    assert text[3]["total_return"] == "" and table["total_return"].to_pylist()[3] is None
    assert text[0]["reject_reasons"] == '{"cash": 2}'
    assert str(table.schema.field("fast").type) == "int64" and str(table.schema.field("error").type) == "string"
