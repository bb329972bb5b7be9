"""Debian's Chromium for the browser tests, driven by Playwright for Python: where it is, the
mark that skips a test without it (CI installs it: ``.ci/run``; never ``playwright install``,
which downloads a browser of its own), starting it, and keeping a screenshot as a test artifact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
PAGES = Path(__file__).resolve().parent / "artifacts" / "pages"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"
)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for as long as the block lasts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def keep(page: Page, name: str, folder: Path = PAGES) -> Path:
    """Save a screenshot of the whole page as a test artifact and print where."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG")
    print(f"screenshot: {path}")
    return path
