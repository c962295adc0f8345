"""The dossier's facts from an export alone: development hours per month, day by day
(from an adjustment's start to its end, while the agreement is active and the adjustment
not reverted), and erased texts."""

from __future__ import annotations

import base64
import json
from typing import Any

from domain.dossier.facts import ERASED, SEALED_PREFIX, facts_from_export, printed_lines

KEY = base64.b64encode(bytes(32)).decode()
AID = "00000000-0000-4000-8000-000000000001"


def _event(version: int, name: str, at: str, **fields: Any) -> str:
    meta = {"actor_id": "mgr", "actor_role": "MANAGER", "reason": None, "timestamp": at}
    return json.dumps(
        {
            "kind": "event",
            "position": version,
            "stream": AID,
            "version": version,
            "topic": f"domain.agreement_events:{name}",
            "fields": {**meta, "previous_hash": "0" * 64, **fields},
        }
    )


def _adjustment(aid: str, change: str, hours: float, starts: str | None = None) -> dict[str, Any]:
    return {"id": aid, "change_id": change, "hours_per_week": hours, "starts_on": starts}


def _checkpoint(at: str) -> str:
    return json.dumps(
        {"kind": "checkpoint", "position": 9, "size": 9, "root": "r", "recordedAt": at}
    )


def _goal() -> dict[str, Any]:
    return {"target_role": "PM", "skills": ["roadmapping"], "target_date": None}


def test_hours_per_month_count_each_day_an_adjustment_is_in_effect() -> None:
    lines = [
        _event(
            1,
            "Proposed",
            "2026-01-20T09:00:00+00:00",
            employee_id="emp",
            title="Plan",
            career_goal=_goal(),
            adjustments=[_adjustment("a1", "c1", 7)],  # 1 hour a day
        ),
        _event(2, "Approved", "2026-01-30T09:00:00+00:00"),
        # 14 h/week (2 a day) from 1 February on.
        _event(
            3,
            "AdjustmentAdded",
            "2026-01-31T09:00:00+00:00",
            adjustment=_adjustment("a2", "c2", 14, "2026-02-01"),
        ),
        _event(
            4,
            "ChangeReverted",
            "2026-02-02T09:00:00+00:00",
            change_id="c3",
            reverted_change_id="c1",
            to_version=None,
        ),
        _event(5, "Paused", "2026-02-03T09:00:00+00:00"),
        _checkpoint("2026-02-05T00:00:00+00:00"),
    ]
    facts = facts_from_export(lines, KEY)
    # January: the 30th and 31st at 1 h. February: the 1st at 1 + 2, the 2nd at 2 (the
    # first reverted that day), none from the 3rd (paused).
    assert facts["hoursByMonth"] == [
        {"month": "2026-01", "hours": 2.0},
        {"month": "2026-02", "hours": 5.0},
    ]
    assert ("hours", "2026-02: 5 hours") in printed_lines(facts)
    assert facts["status"] == "PAUSED"
    assert [d["what"] for d in facts["decisions"]][-2:] == ["Change reverted", "Paused"]


def test_a_sealed_text_without_its_opening_is_erased() -> None:
    sealed = f"{SEALED_PREFIX}kid.abc"
    lines = [
        _event(
            1,
            "Proposed",
            "2026-01-20T09:00:00+00:00",
            employee_id="emp",
            title=sealed,
            career_goal=_goal(),
            adjustments=[],
        ),
        _checkpoint("2026-01-21T00:00:00+00:00"),
    ]
    assert facts_from_export(lines, KEY)["title"] == ERASED
    opened = json.loads(lines[0])
    opened["opened"] = {sealed: {"text": "Tester to PM", "key": ""}}
    lines[0] = json.dumps(opened)
    assert facts_from_export(lines, KEY)["title"] == "Tester to PM"
