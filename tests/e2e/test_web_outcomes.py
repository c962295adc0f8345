"""Recording and reverting an agreement's outcome in the web app (both databases): the
forms the manager sees once it has ended, refusals in people's words with nothing
recorded, the outcome in words on the agreement page, its timeline and the person's
path on their career page."""

from __future__ import annotations

import re
from datetime import date, timedelta

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.web import hidden_fields, sign_in
from tests.e2e.world import World

COMPLETE = """mutation($id: ID!) { completeAgreement(input: {agreementId: $id}) {
  userErrors { code } } }"""


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _summary(html: str) -> list[tuple[str, str]]:
    """The error summary's links: (target, message)."""
    box = html.split('class="error-summary"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_manager_records_and_reverts_an_outcome_told_in_words(api: Api) -> None:
    w = World(api)
    active = w.active()
    aid = str(agreement_uuid(active["id"]))
    manager = sign_in(api.client, api.secret, w.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    employee = sign_in(api.client, api.secret, w.ids["emp"], Role.EMPLOYEE)
    page = f"/agreements/{aid}"
    record, revert = f"{page}/outcome", f"{page}/revert-outcome"
    # While it runs there is no outcome to record.
    assert f'action="{record}"' not in manager.get(page).text
    assert api.data(w.manager, COMPLETE, id=active["id"])["completeAgreement"]["userErrors"] == []
    w.sync()
    shown = manager.get(page).text
    assert "No outcome recorded yet." in _text(shown)
    assert f'action="{revert}"' not in shown  # nothing to revert yet
    # The employee reads the outcome but has no form to record one.
    assert f'action="{record}"' not in employee.get(page).text
    fields = hidden_fields(shown, record)

    before = api.position()
    tomorrow = date.today() + timedelta(days=1)
    for sent, expected in (
        ({"kind": ""}, [("outcome-kind", "Choose what the agreement led to.")]),
        (
            {"kind": "STOPPED", "reason": "  "},
            [("outcome-reason", "Say why it stopped: a reason is required for this outcome.")],
        ),
        (
            {"kind": "GOAL_CHANGED", "achievedOn": "soon"},
            [
                ("outcome-achievedOn", "When it happened must be a date (YYYY-MM-DD)."),
                (
                    "outcome-reason",
                    "Say why the goal changed: a reason is required for this outcome.",
                ),
            ],
        ),
        (
            {"kind": "PROMOTED_IN_PLACE", "achievedOn": tomorrow.isoformat()},
            [("outcome-achievedOn", "When it happened cannot be in the future.")],
        ),
    ):
        refused = manager.post(record, data=fields | sent)
        assert refused.status_code == 422, refused.text
        assert "<title>Error: " in refused.text
        assert _summary(refused.text) == expected, sent
        for target, _ in expected:  # each link leads to its field
            assert f'id="{target}"' in refused.text
    assert api.position() == before  # nothing recorded

    moved_on = date.today() - timedelta(days=2)
    done = manager.post(
        record,
        data=fields | {"kind": "MOVED_TO_TARGET_ROLE", "achievedOn": moved_on.isoformat()},
    )
    assert done.status_code == 303, done.text
    said = (
        f"Outcome: moved into Product manager on {_day(moved_on)}, "
        f"recorded by {w.ids['mgr'].title()}."
    )
    shown = manager.get(done.headers["location"]).text
    assert said in _text(shown)
    assert said in _text(employee.get(page).text)  # everyone who reads it

    # Reverting asks first (a page, without script), recording nothing yet.
    fields = hidden_fields(shown, revert)
    before = api.position()
    asked = manager.post(revert, data=fields | {"reason": "Recorded on the wrong plan"})
    assert asked.status_code == 200
    assert "Revert the outcome of “Tester to product manager”?" in _text(asked.text)
    assert api.position() == before
    unexplained = manager.post(revert, data=fields | {"reason": "", "confirmed": "yes"})
    assert unexplained.status_code == 422
    assert "<title>Error: " in unexplained.text
    assert _summary(unexplained.text) == [
        ("revert-outcome-reason", "A reason is required for this action.")
    ]
    assert api.position() == before
    reverted = manager.post(
        revert, data=fields | {"reason": "Recorded on the wrong plan", "confirmed": "yes"}
    )
    assert reverted.status_code == 303, reverted.text
    shown = _text(manager.get(reverted.headers["location"]).text)
    assert "No outcome in effect: the one recorded was reverted." in shown
    assert (
        f"Reverted: moved into Product manager on {_day(moved_on)}, recorded by "
        f"{w.ids['mgr'].title()}; reverted by {w.ids['mgr'].title()}: Recorded on the wrong plan"
    ) in shown

    # The timeline tells both events in words.
    timeline = _text(employee.get(f"{page}/timeline").text)
    assert (
        f"Recorded the outcome: moved into the target role, on {moved_on.isoformat()}" in timeline
    )
    assert "Reverted the outcome (the one before it, if any, is back)" in timeline

    # HR records it again; the person's path shows the goal, what it led to and when.
    hr = sign_in(api.client, api.secret, w.ids["hr"], Role.HR)
    fields = hidden_fields(hr.get(page).text, record)
    again = hr.post(record, data=fields | {"kind": "PROMOTED_IN_PLACE"})
    assert again.status_code == 303, again.text
    hr.get(again.headers["location"])  # waits for the read models
    path = _text(employee.get("/career").text)
    assert f"promoted in their current role on {_day(date.today())}" in path
    assert "Product manager" in path
