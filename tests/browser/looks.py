"""Looking at a page as people do: at 320, 390 and 1280 CSS px nothing scrolls sideways,
axe finds nothing serious, and a screenshot of each width is kept for a person to look
at (CRAFTING_TEST_SHOTS names the folder; the system's temporary folder otherwise)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tests.browser.pages import accessible

WIDTHS = (320, 390, 1280)
# What sticks out on the right (for the failure's message): the innermost elements.
WIDER = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
    && !e.parentElement.closest('.table-wrap'))
  .slice(0, 8).map(e => e.outerHTML.slice(0, 100))"""
SHOTS = Path(os.environ.get("CRAFTING_TEST_SHOTS") or Path(tempfile.gettempdir()) / "shots")


def looked_at(page: Any, name: str) -> None:
    """The page as it is now, at each width: no sideways scroll, axe clean, a screenshot
    (`<name>-<width>.png`)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wide = int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))
        assert wide <= 0, (page.url, width, wide, page.evaluate(WIDER))
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    accessible(page)
