"""The live dashboard in headless Chromium (tests/browser.py): the numbers a person sees are the daemon's /status."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import replace

from engine.daemon.daemon import Daemon
from tests.browser import console_errors, keep_screenshot
from tests.engine.daemon.test_daemon import T0, FeedServer, S, live_config, trade_line, until

READ = """
const text = (id) => document.getElementById(id).textContent;
const rows = (id) => [...document.getElementById(id).rows].map((r) => [...r.cells].map((c) => c.textContent));
return {text: Object.fromEntries(["state", "cash", "equity", "fills", "open-orders"].map((i) => [i, text(i)])),
        positions: rows("positions"), fills: rows("recent-fills"), queues: rows("queues"),
        points: document.getElementById("curve-line").getAttribute("points").split(" ").filter(Boolean)};
"""  # in one script: the page redraws four times a second, so element handles would go stale


def read_page(browser, url: str) -> dict:
    """Open the page, wait for its first snapshots from /ws, read what a person sees (on a thread: selenium blocks)."""
    browser.get(url)
    deadline = time.monotonic() + 20
    while int(browser.execute_script("return Number(document.body.dataset.updates || 0)")) < 2:
        assert time.monotonic() < deadline, "the page got no snapshot from /ws"
        time.sleep(0.05)
    page = browser.execute_script(READ)
    keep_screenshot(browser, "daemon-dashboard")
    return {**page, "errors": console_errors(browser)}


def test_the_dashboard_shows_what_status_says(browser):
    async def main():
        server = FeedServer()
        await server.start()
        config = live_config(server.port, "tests.engine.daemon.strategies:EveryBar")
        daemon = Daemon(replace(config, daemon=replace(config.daemon, control="127.0.0.1:0")))
        running = asyncio.get_running_loop().create_task(daemon.run())
        await until(lambda: server.writers)
        for n in range(40):  # two instruments, a bar a second each: EveryBar trades on every bar
            await server.send(trade_line(T0 + n * S, 100.0 + n % 7, symbol="AB" if n % 2 else "XY"))
        await until(lambda: daemon.collector.fills >= 20)
        await asyncio.sleep(0.3)  # the last bar's orders are in; nothing moves until the next trade
        url = f"http://127.0.0.1:{daemon.control.port}/"
        page = await asyncio.to_thread(read_page, browser, url)
        status = await asyncio.to_thread(lambda: json.loads(urllib.request.urlopen(url + "status", timeout=5).read()))
        daemon.request_stop("test over")
        await running
        await server.kill()
        return page, status

    with asyncio.Runner() as runner:
        page, status = runner.run(asyncio.wait_for(main(), 120))
    text = page["text"]
    assert text["state"] == "running" and not page["errors"]
    assert text["cash"] == f"{status['cash']:.2f}" and text["equity"] == f"{status['equity']:.2f}"
    assert text["fills"] == str(status["fills"]) and text["open-orders"] == str(status["open_orders"]["count"])
    positions = {row[0]: row for row in page["positions"]}
    assert set(positions) == set(status["positions"]) == {"AB", "XY"}
    for instrument, p in status["positions"].items():
        row = positions[instrument]
        assert float(row[1]) == p["size"] and row[2] == f"{p['avg_price']:.2f}"
        assert row[4] == f"{(p['last_price'] - p['avg_price']) * p['size']:.2f}"  # unrealized P&L
        assert row[5] == f"{p['realized_pnl']:.2f}"
    assert [r[0] for r in page["fills"]] == [f["order_id"] for f in reversed(status["recent_fills"])]
    assert [r[0] for r in page["queues"]] == list(status["queues"])
    assert len(page["points"]) == len(status["equity_curve"]) >= 2  # the curve holds every mark the status has
