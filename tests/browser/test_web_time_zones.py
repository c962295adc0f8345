"""Times in the person's own time zone, in a real browser: by default the browser's
(tz.js tells the server in a cookie), the zone named; a zone chosen on the settings
page (a plain form, no script needed) wins; a zone that does not exist is refused with a
clear message and changes nothing; the audit log's dates are read in the same zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console
from tests.browser.test_web_confirm import _approved
from tests.processes import eventually


def _first_time(page: object) -> tuple[datetime, str]:
    """The newest audit-log row's moment (its machine-readable UTC) and what it says."""
    cell = page.locator("tbody tr time").first  # type: ignore[attr-defined]
    moment = datetime.fromisoformat(cell.get_attribute("datetime"))
    return moment, cell.inner_text()


def test_times_are_shown_in_the_browsers_zone_or_the_one_chosen(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    console = Console()
    link = service.link(ids["hr"], Role.HR)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context(timezone_id="Europe/Berlin").new_page())
            page.set_default_timeout(30_000)
            page.goto(link)
            page.get_by_role("button", name="Sign in").click()
            told = lambda: any(c["name"] == "crafting_tz" for c in page.context.cookies())  # noqa: E731
            assert eventually(told, 15), "the browser did not tell its time zone"
            page.goto(f"{service.base}/audit")
            expect(page.locator("p.zone")).to_contain_text("Europe/Berlin")
            moment, shown = _first_time(page)
            berlin = moment.astimezone(ZoneInfo("Europe/Berlin"))
            assert shown == berlin.strftime("%Y-%m-%d %H:%M:%S ") + berlin.strftime("%Z")
            assert shown.endswith((" CET", " CEST"))
            looked_at(page, "time-zone-browser")

            # The settings form, without script: a zone that does not exist is refused.
            plain = browser.new_context(java_script_enabled=False, timezone_id="Asia/Tokyo")
            bare = console.watch(plain.new_page())
            bare.set_default_timeout(30_000)
            bare.goto(service.link(ids["hr"], Role.HR))
            bare.get_by_role("button", name="Sign in").click()
            bare.goto(f"{service.base}/audit")
            expect(bare.locator("p.zone")).to_contain_text("UTC")  # no script: not told
            _, utc_shown = _first_time(bare)
            assert utc_shown.endswith(" UTC")
            bare.get_by_role("link", name="Change it").click()
            field = bare.get_by_label("Your time zone")
            field.fill("Mars/Olympus_Mons")
            bare.get_by_role("button", name="Save settings").click()
            expect(bare.get_by_role("alert")).to_have_text(
                "Choose a time zone from the list, such as Europe/Berlin."
            )
            expect(field).to_have_attribute("aria-invalid", "true")
            # (no screenshot here: Playwright cannot evaluate in a page without script;
            # the same refusal is looked at with script below)
            bare.goto(f"{service.base}/audit")
            expect(bare.locator("p.zone")).to_contain_text("UTC")  # nothing was saved

            bare.goto(f"{service.base}/notifications/settings")
            bare.get_by_label("Your time zone").fill("Asia/Kolkata")
            bare.get_by_role("button", name="Save settings").click()
            expect(bare.get_by_role("status")).to_have_text("Saved.")

            page.goto(f"{service.base}/notifications/settings")
            page.get_by_label("Your time zone").fill("Europe/Nowhere")
            page.get_by_role("button", name="Save settings").click()
            expect(page.get_by_role("alert")).to_contain_text("Choose a time zone")
            looked_at(page, "time-zone-refused")

            # Chosen: it wins over the browser's zone, in every browser of the person.
            page.goto(f"{service.base}/audit")
            expect(page.locator("p.zone")).to_contain_text("Asia/Kolkata")
            moment, shown = _first_time(page)
            kolkata = moment.astimezone(ZoneInfo("Asia/Kolkata"))
            assert shown == kolkata.strftime("%Y-%m-%d %H:%M:%S IST")
            # The dates typed in the filter are in that zone too: from the shown minute
            # on finds the event, from a minute after it does not.
            page.get_by_label("Recorded from").fill(kolkata.strftime("%Y-%m-%dT%H:%M:00"))
            page.get_by_role("button", name="Search").click()
            expect(page.locator("tbody tr").first).to_be_visible()
            later = kolkata.replace(second=0).timestamp() + 60
            after = datetime.fromtimestamp(later, ZoneInfo("Asia/Kolkata"))
            newest = page.locator("tbody tr").count()
            page.get_by_label("Recorded from").fill(after.strftime("%Y-%m-%dT%H:%M:00"))
            page.get_by_role("button", name="Search").click()
            assert page.locator("tbody tr").count() < newest
            looked_at(page, "time-zone-chosen")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_the_timeline_shows_and_reads_times_in_the_persons_zone(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context(timezone_id="Asia/Tokyo").new_page()
            page.set_default_timeout(30_000)
            page.goto(service.link(ids["hr"], Role.HR))
            page.get_by_role("button", name="Sign in").click()
            told = lambda: any(c["name"] == "crafting_tz" for c in page.context.cookies())  # noqa: E731
            assert eventually(told, 15), "the browser did not tell its time zone"
            page.goto(f"{service.base}/agreements/{ids['mine']}/timeline")
            cell = page.locator(".timeline time").first
            moment = datetime.fromisoformat(str(cell.get_attribute("datetime")))
            tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
            expect(cell).to_have_text(tokyo.strftime("%Y-%m-%d %H:%M:%S JST"))
            looked_at(page, "timeline-zone")
            # An instant typed in the form is read in the same zone: the first version's
            # time (as shown, in Tokyo; a second on) finds a version; a minute before it,
            # nothing yet. Read as UTC, both would be nine hours off.
            shown = tokyo.replace(microsecond=0, tzinfo=None)
            field = page.get_by_label("At an instant (Asia/Tokyo)")
            field.fill((shown + timedelta(seconds=1)).isoformat())
            page.get_by_role("button", name="Show").click()
            expect(page.locator(".notice")).to_contain_text("As it was at version")
            expect(page.locator(".notice")).to_contain_text(" JST")
            page.go_back()
            before = shown - timedelta(minutes=1)
            page.get_by_label("At an instant (Asia/Tokyo)").fill(before.isoformat())
            page.get_by_role("button", name="Show").click()
            expect(page.locator("main")).to_contain_text("had not been proposed yet")
            expect(page.locator("main")).to_contain_text(" JST")
            expect(page.locator("main")).not_to_contain_text(" UTC")
        finally:
            browser.close()
