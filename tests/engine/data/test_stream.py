"""Several files merged into one ordered stream; paths resolution; lazy, bounded reading."""

from __future__ import annotations

import os

import numpy as np
import pytest

from engine.data import DataError, open_stream

HEADER = "timestamp,open,high,low,close,volume\n"


def write(directory, name, stamps, price=1.0):
    path = directory / name
    path.write_text(HEADER + "".join(f"{t},{price},{price},{price},{price},1\n" for t in stamps))
    return str(path)


def test_ties_go_by_instrument_name_then_file_order(tmp_path):
    b = write(tmp_path, "B.csv", [0, 60, 120])
    a = write(tmp_path, "A.csv", [60, 120, 180])
    c = write(tmp_path, "C.csv", [60])
    stream = open_stream([b, c, a])
    assert stream.files == [b, c, a]
    got = [(bar.ts // 10**9, bar.instrument) for bar in stream]
    assert got == [(0, "B"), (60, "A"), (60, "B"), (60, "C"), (120, "A"), (120, "B"), (180, "A")]


def test_same_instrument_from_two_files_is_refused(tmp_path):
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    p1 = write(tmp_path / "d1", "X.csv", [0])
    p2 = write(tmp_path / "d2", "X.csv", [60])
    with pytest.raises(DataError, match="instrument 'X' also comes from"):
        list(open_stream([p1, p2]))


def test_directories_and_globs_are_sorted_and_deduplicated(tmp_path):
    for name in ("b.csv", "a.csv", "c.txt"):
        write(tmp_path, name, [0]) if name.endswith(".csv") else (tmp_path / name).write_text("x")
    stream = open_stream([str(tmp_path), str(tmp_path / "*.csv")])
    assert [os.path.basename(f) for f in stream.files] == ["a.csv", "b.csv"]


def test_merge_across_many_small_chunks_matches_a_full_sort(tmp_path):
    rng = np.random.default_rng(7)
    paths, expected = [], []
    for k, name in enumerate(["S2", "S1", "S3", "S0"]):
        stamps = np.unique(rng.integers(0, 3000, size=400)) * 60
        paths.append(write(tmp_path, f"{name}.csv", stamps.tolist(), price=float(k + 1)))  # prices are positive
        expected += [(int(t) * 10**9, name, k + 1) for t in stamps]
    expected.sort(key=lambda r: (r[0], r[1], r[2]))
    stream = open_stream(paths, chunk_bytes=256)  # ~10 rows per block: many merge rounds
    got = [(bar.ts, bar.instrument, int(bar.close)) for bar in stream]
    assert got == [(t, name, k) for t, name, k in expected]


def test_instrument_override_needs_a_single_file(tmp_path):
    p = write(tmp_path, "a.csv", [0])
    q = write(tmp_path, "b.csv", [0])
    assert next(iter(open_stream([p], instrument="ES"))).instrument == "ES"
    with pytest.raises(ValueError, match="one file"):
        open_stream([p, q], instrument="ES")


def test_reading_is_lazy_and_in_bounded_blocks(tmp_path):
    n = 20_000
    path = write(tmp_path, "big.csv", (np.arange(n) * 60).tolist())
    stream = open_stream([path], chunk_bytes=4096)
    assert stream.report.rows_read == {}  # opening reads nothing but the header
    it = iter(stream)
    next(it)
    read_after_first = stream.report.rows_read[path]
    assert 0 < read_after_first <= 4096 // 10  # one block, not the file
    rest = sum(1 for _ in it)
    assert rest == n - 1 and stream.report.rows_read[path] == n


def test_batches_and_chunks_expose_the_same_bars(tmp_path):
    p = write(tmp_path, "a.csv", [0, 60, 120])
    batches = list(open_stream([p], chunk_bytes=16).batches())
    assert len(batches) > 1 and [b.ts for batch in batches for b in batch] == [0, 60 * 10**9, 120 * 10**9]
    chunks = list(open_stream([p]).chunks())
    assert [c.ts.tolist() for c in chunks] == [[0, 60 * 10**9, 120 * 10**9]]


def test_header_problems_fail_when_the_stream_is_opened(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("timestamp,open,high,low,volume\n0,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        open_stream([str(p)])
    assert (err.value.line, err.value.field) == (1, "close")
