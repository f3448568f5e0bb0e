"""`python -m engine report DIR` rebuilds a run's or a sweep's report.html from the files, byte for byte."""

from __future__ import annotations

from engine.cli.main import main


def test_report_rebuilds_the_same_bytes_and_no_report_writes_none(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["backtest", "--out", str(out)]) == 0
    first = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").read_bytes() == first
    bare = tmp_path / "bare"
    assert main(["backtest", "--out", str(bare), "--no-report"]) == 0
    assert not (bare / "report.html").exists()
    assert main(["report", str(bare), "--out", str(tmp_path / "later.html")]) == 0
    assert (tmp_path / "later.html").read_bytes() == first  # the same run, wherever its folder is
    assert main(["report", str(tmp_path)]) == 2  # neither a run nor a sweep folder
    assert "neither a backtest folder" in capsys.readouterr().err
