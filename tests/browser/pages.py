"""What every browser test checks on the pages it shows: axe-core finds no serious or
critical accessibility problem, and the browser reports no error (a Content-Security-
Policy violation is reported as one)."""

from __future__ import annotations

from functools import cache
from typing import Any

# A page answered 4xx on purpose (a 404 for someone else's agreement, a 409, a 422).
RESPONDED = "Failed to load resource: the server responded with a status of 4"


@cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def accessible(page: Any) -> None:
    """axe finds no serious or critical violation on the page as it is now."""
    violations = _axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], (page.url, serious)


class Console:
    """The errors the browser reports on the pages it watches."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        return page

    def unexpected(self) -> list[str]:
        """All but the 4xx answers a test asked for."""
        return [e for e in self.errors if not e.startswith(RESPONDED)]


def confirm(page: Any) -> None:
    """Say yes in the dialog an action that cannot be undone opens."""
    dialog = page.locator("#confirm-dialog")
    dialog.locator("#confirm-go").click()


def open_action(page: Any, form: str) -> Any:
    """Open the manager's group of actions holding `form` (a selector), as a person
    would: by its summary. Returns the form."""
    group = page.locator("details.group", has=page.locator(form))
    if group.get_attribute("open") is None:
        group.locator("summary").click()
    return page.locator(form)


def open_menu(page: Any) -> Any:
    """The main navigation with its links in view: on a phone they are behind the
    "Menu" disclosure, which a person opens first. Returns the navigation."""
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.locator("details.menu")
    if nav.locator("summary").is_visible() and menu.get_attribute("open") is None:
        nav.locator("summary").click()
    return nav
