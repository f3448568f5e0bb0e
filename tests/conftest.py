"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import headless_chromium, why_no_browser


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver); see tests/browser.py."""
    reason = why_no_browser()
    if reason is not None:
        pytest.skip(reason)
    with headless_chromium() as driver:
        yield driver
