"""Every kind of message is worded from real events, in the reader's words: who did
what, why, and no ids, enum names or field paths."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

from domain.application import CraftingApplication
from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind
from infra.notifications.kinds import EVENT_KINDS, REVIEW_OVERDUE, REVIEW_SOON
from infra.notifications.wording import Facts, words
from tests.notifications.story import Story


def _facts(story: Story, event: Any, recipient: str, event_type: str | None = None) -> Facts:
    return Facts(
        event_type=event_type or type(event).__name__,
        recipient_id=recipient,
        recipient_name="Reader",
        actor_name="Priya Raman",
        employee_id=story.sam,
        employee_name="Sam Tester",
        title="From testing toward product management",
        reason=getattr(event, "reason", None),
        event=event,
        names={story.sam: "Sam Tester", story.lena: "Lena Okafor", story.priya: "Priya Raman"},
        due_on=date(2026, 12, 19),
    )


def test_every_kind_reads_as_a_person_would_say_it(memory_app: CraftingApplication) -> None:
    story = Story(memory_app)
    aid = story.propose()
    story.run(story.as_priya, c.RequestChanges(agreement_id=aid, reason="Say which feature"))
    story.revise(aid)
    story.approve(aid)
    story.run(
        story.as_priya,
        c.AddAdjustment(
            agreement_id=aid,
            adjustment=AdjustmentDraft(AdjustmentKind.RELATIONAL, "Shadow a PM", 1),
        ),
    )
    added = memory_app.load_agreement(aid)
    assert added is not None
    change = next(a.change_id for a in added.adjustments.values() if a.description == "Shadow a PM")
    story.run(story.as_priya, c.RevertChange(agreement_id=aid, change_id=change, reason="Crunch"))
    story.hand_over_triage(aid)
    story.run(story.as_priya, c.PauseAgreement(agreement_id=aid, reason="Release week"))
    story.run(story.as_priya, c.ResumeAgreement(agreement_id=aid))
    story.run(story.as_priya, c.CompleteAgreement(agreement_id=aid))
    other = story.propose()
    story.run(story.as_priya, c.RejectAgreement(agreement_id=other, reason="Not this quarter"))
    story.run(story.as_hr, c.PlaceLegalHold(person_id=story.sam, reason="Litigation"))
    events = [
        memory_app.mapper.to_domain_event(n)
        for n in memory_app.recorder.select_notifications(1, 1000)
    ]
    worded = {}
    for event in events:
        name = type(event).__name__
        if name in EVENT_KINDS:
            worded[name] = words(_facts(story, event, story.sam))
    worded["DeactivationsHeld"] = words(
        _facts(
            story,
            SimpleNamespace(person_ids=["a", "b"], reason=None),
            story.hr_id,
            "DeactivationsHeld",
        )
    )
    for reminder in (REVIEW_SOON, REVIEW_OVERDUE):
        worded[reminder] = words(_facts(story, None, story.priya, reminder))
    assert set(worded) == set(EVENT_KINDS) | {REVIEW_SOON, REVIEW_OVERDUE}
    for name, wording in worded.items():
        text = " ".join([wording.subject, wording.headline, *wording.paragraphs])
        text += " ".join(f"{k} {v}" for k, v in wording.details)
        assert story.s not in text, (name, text)  # no person ids
        assert not re.search(r"\b[A-Z]{2,}_[A-Z]+\b", text), (name, text)  # no enum names
        assert "None" not in text, (name, text)
    assert "Say which feature" in dict(worded["ChangesRequested"].details)["Reason"]
    assert "Not this quarter" in dict(worded["Rejected"].details)["Reason"]
    assert dict(worded["TaskReallocated"].details)["Given to"] == "Lena Okafor"
    assert "2 people" in worded["DeactivationsHeld"].subject
    assert worded[REVIEW_OVERDUE].subject.startswith("Review overdue")
    assert "Saturday 19 December 2026" in worded[REVIEW_SOON].subject
