"""A real headless browser for tests: Debian's Chromium driven by selenium through Debian's chromedriver.

Reusable by any test that opens a page (report.html here, the daemon's
dashboard elsewhere): ``with headless_chromium() as browser: ...`` or the
``browser`` fixture (tests/conftest.py). The network is closed here, so
every background service Chromium would call home with is off, and each
browser gets a fresh profile directory. Installed by ``make browser``
(``make test`` depends on it); where it is missing the fixture skips and says why.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1800")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # screenshots kept after the run (git-ignored)


def why_no_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing: `make browser` installs Debian's chromium and chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e .[dev])"
    return None


@contextlib.contextmanager
def headless_chromium(timeout: float = 30.0) -> Iterator[Any]:
    """A selenium WebDriver on a fresh headless Chromium, quit (by its own API) and its profile removed at exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(timeout)
        driver.set_script_timeout(timeout)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """Console messages of level SEVERE (errors, uncaught exceptions, failed loads) since the last call."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def keep_screenshot(driver: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(int(height) + 100, 16000))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
