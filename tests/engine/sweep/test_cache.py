"""The columnar cache: keyed by content and parse options, memo then disk then parser, atomic under
concurrent writers, each file parsed once however many processes ask at the same time, entries verified
against the file they claim, and an unusable cache folder costs speed only."""

import multiprocessing
import os

import numpy as np
import pytest

from engine.data import BarColumns, Report, SkippedRow
from engine.data.stream import column_batches
from engine.sweep.cache import ColumnStore, ParseOptions, read_entry, write_entry
from hub.messages import Bar
from tests.engine.sweep.support import load_and_report, parse_csv, write_many


def counting_parse(calls):
    def parse(path, options):
        calls.append(path)
        return parse_csv(path, options)
    return parse


def test_memo_then_disk_then_parser(tmp_path, data_files):
    calls = []
    store = ColumnStore(tmp_path / "cache", parse=counting_parse(calls))
    first = store.load(data_files[0])
    again = store.load(data_files[0])
    other_process = ColumnStore(tmp_path / "cache", parse=counting_parse(calls)).load(data_files[0])
    assert (first.source, again.source, other_process.source) == ("parsed", "memo", "disk")
    assert len(calls) == 1
    assert first.columns.ts.dtype == np.int64 and first.columns.close.dtype == np.float64
    for name in ("ts", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(first.columns, name), getattr(other_process.columns, name))
    assert other_process.columns.instrument == "AAA"
    assert first.digest == other_process.digest


def test_a_changed_file_or_other_options_are_a_miss(tmp_path, data_files):
    calls = []
    store = ColumnStore(tmp_path / "cache", parse=counting_parse(calls))
    path = data_files[0]
    before = store.load(path)
    store.load(path, ParseOptions(instrument="XYZ"))
    assert len(calls) == 2
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-10]))  # same name, new content
    after = ColumnStore(tmp_path / "cache", parse=counting_parse(calls)).load(path)
    assert after.source == "parsed" and len(after.columns) == len(before.columns) - 10
    assert store.load(path).source in ("disk", "parsed") and len(store.load(path).columns) == len(after.columns)


def test_bars_built_from_columns(tmp_path, data_files):
    columns = ColumnStore(tmp_path / "cache", parse=parse_csv).load(data_files[1]).columns
    bars = [bar for batch in column_batches(columns, size=100) for bar in batch]
    assert len(bars) == len(columns)
    assert bars[0] == Bar(int(columns.ts[0]), "BBB", float(columns.open[0]), float(columns.high[0]),
                          float(columns.low[0]), float(columns.close[0]), float(columns.volume[0]))


def test_a_parse_error_is_raised_and_not_cached(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2020-01-01T00:00:00,1,2,x,1,1\n")
    store = ColumnStore(tmp_path / "cache", parse=parse_csv)
    with pytest.raises(ValueError):
        store.load(bad)
    assert not list((tmp_path / "cache").rglob("*.npz"))


def test_an_unreadable_entry_is_parsed_again_and_replaced(tmp_path, data_files):
    store = ColumnStore(tmp_path / "cache", parse=parse_csv)
    loaded = store.load(data_files[0])
    entry = store.entry_path(store.key(loaded.digest, ParseOptions(), data_files[0].stem))
    entry.write_bytes(b"PK\x03\x04 truncated")
    assert read_entry(entry) is None
    fresh = ColumnStore(tmp_path / "cache", parse=parse_csv).load(data_files[0])
    assert fresh.source == "parsed" and read_entry(entry) is not None


def test_concurrent_loaders_parse_once_and_agree(tmp_path, data_files):
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=load_and_report, args=(str(tmp_path / "cache"), str(data_files[2]), go, out))
             for _ in range(4)]
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sorted(r[0] for r in results) == ["disk", "disk", "disk", "parsed"]
    assert len({r[1:] for r in results}) == 1
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".tmp")]


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path):
    """Writers of different sizes race on one entry (no lock) while this process keeps reading it."""
    entry = tmp_path / "cache" / "ab" / "entry.npz"
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    sizes = [1_000, 50_000, 200_000]
    procs = [ctx.Process(target=write_many, args=(str(entry), n, 15, go)) for n in sizes]
    for p in procs:
        p.start()
    go.set()
    seen = set()
    while any(p.is_alive() for p in procs) or not seen:
        found = read_entry(entry)
        if found is None:
            assert not seen, "an entry that was readable became unreadable"  # None only before the first rename
            continue
        columns, _, digest = found
        n = len(columns)
        assert digest == f"digest-{n}"
        assert n in sizes and columns.instrument == f"N{n}"
        assert (columns.ts == n).all() and (columns.volume == float(n)).all()
        seen.add(n)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert os.listdir(entry.parent) == ["entry.npz"]  # no temporary file left behind


def test_memo_is_bounded(tmp_path, data_files):
    store = ColumnStore(tmp_path / "cache", parse=parse_csv, memo_bytes=1)
    store.load(data_files[0])
    store.load(data_files[1])
    assert store.load(data_files[0]).source == "disk"  # evicted from memo, still on disk


def test_write_and_read_keep_per_row_instruments_and_the_report(tmp_path):
    columns = BarColumns(np.array(["A", "B", "A"], dtype=object), np.arange(3, dtype=np.int64), *(np.ones(3) for _ in range(5)))
    report = Report()
    report.skipped.append(SkippedRow("x.csv", 4, "close", "cannot parse 'abc' as a number", "abc", "unparsable number"))
    write_entry(tmp_path / "e.npz", columns, report, "d1")
    back, back_report, digest = read_entry(tmp_path / "e.npz")
    assert back.instrument.tolist() == ["A", "B", "A"] and back.instrument_name == "A+B" and digest == "d1"
    assert back_report.skipped == report.skipped and back_report.filtered == []
    assert [b.instrument for batch in column_batches(back) for b in batch] == ["A", "B", "A"]


def test_threads_sharing_a_store_parse_once(tmp_path, data_files):
    """A Dask worker with several threads shares one store."""
    from concurrent.futures import ThreadPoolExecutor

    calls = []
    store = ColumnStore(tmp_path / "cache", parse=counting_parse(calls))
    with ThreadPoolExecutor(4) as pool:
        loads = list(pool.map(lambda _: store.load(data_files[0]), range(8)))
    assert len(calls) == 1 and {x.source for x in loads} <= {"disk", "memo", "parsed"}
    assert len({int(x.columns.ts.sum()) for x in loads}) == 1


def test_swapped_entries_are_parsed_again_never_trusted(tmp_path):
    """Two valid entries swapped on disk: each holds the other file; the digest inside tells, and both are re-parsed."""
    one = tmp_path / "S1.csv"
    four = tmp_path / "S4.csv"
    one.write_text("timestamp,open,high,low,close,volume\n2020-01-01T00:00:00,1,2,0.5,1.5,10\n")
    four.write_text("timestamp,open,high,low,close,volume\n2020-01-01T00:00:00,4,5,3.5,4.5,40\n")
    store = ColumnStore(tmp_path / "cache")
    entries = [store.entry_path(store.key(store.load(f).digest, ParseOptions(), f.stem)) for f in (one, four)]
    first, second = (e.read_bytes() for e in entries)
    entries[0].write_bytes(second)
    entries[1].write_bytes(first)
    fresh = ColumnStore(tmp_path / "cache")
    loaded = fresh.load(one)
    assert loaded.source == "parsed" and fresh.mismatched == 1
    assert loaded.columns.instrument == "S1" and loaded.columns.close.tolist() == [1.5]
    assert fresh.load(four).columns.instrument == "S4" and fresh.mismatched == 2
    assert read_entry(entries[0])[2] == loaded.digest  # rewritten with the right file
    assert ColumnStore(tmp_path / "cache").load(one).source == "disk"


def test_same_content_under_two_names_keeps_each_name(tmp_path):
    text = "timestamp,open,high,low,close,volume\n2020-01-01T00:00:00,1,2,0.5,1.5,10\n"
    (tmp_path / "A.csv").write_text(text)
    (tmp_path / "B.csv").write_text(text)
    store = ColumnStore(tmp_path / "cache")
    assert store.load(tmp_path / "A.csv").columns.instrument == "A"
    assert store.load(tmp_path / "B.csv").columns.instrument == "B"


def test_a_cache_folder_that_goes_bad_costs_speed_not_the_load(tmp_path, data_files):
    warnings = []
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be\n")
    store = ColumnStore(blocker / "cache", parse=parse_csv, warn=warnings.append)
    loaded = store.load(data_files[0])
    assert loaded.source == "parsed" and len(loaded.columns) == 1500
    assert store.cache_dir is None and len(warnings) == 1 and "is not usable" in warnings[0]
    assert store.load(data_files[1]).source == "parsed" and len(warnings) == 1  # said once
