"""The facts a promotion dossier prints, derived from the agreement's export alone.

The service derives them to print them and the verifier derives them again from the
export embedded in the PDF: one function both ways, so a fact can only be printed if the
signed events say it. Standard library only (like `domain.integrity`), so the check runs
without the service. Names of people are not in the events; facts name people by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from domain.integrity import GENESIS, event_hash

SEALED_PREFIX = "\x1es1."  # domain.sealing's envelope prefix (kept standalone)
ERASED = "[erased]"  # what every reader shows where an erased person's text was
FORMAT = 1
Span = tuple[float, date | None, date | None]  # hours per week, from, until (inclusive)

# What a decision says, by event class (who approved what and when).
DECISIONS = {
    "Proposed": "Proposed",
    "ProposalRevised": "Proposal revised",
    "ChangesRequested": "Changes requested",
    "Approved": "Approved",
    "Rejected": "Rejected",
    "GuardrailsChanged": "Guardrails changed",
    "AdjustmentAdded": "Adjustment added",
    "TaskReallocated": "Task reallocated",
    "ChangeReverted": "Change reverted",
    "SketchChanged": "Sketch changed",
    "Paused": "Paused",
    "Resumed": "Resumed",
    "Completed": "Completed",
    "Withdrawn": "Withdrawn",
}


def fingerprint(public_key_b64: str) -> str:
    """The signing key's fingerprint: SHA-256 of its raw bytes, hex in groups of four."""
    import base64

    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


class _Texts:
    """Opens the sealed values of one event line with the texts the export carries."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.opened = {k: v["text"] for k, v in (item.get("opened") or {}).items()}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(SEALED_PREFIX):
            return self.opened.get(value, ERASED)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value


def events_of(lines: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The event lines and checkpoint lines of an export, in order."""
    events, checkpoints = [], []
    for line in lines:
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("kind") == "event":
            events.append(item)
        elif item.get("kind") == "checkpoint":
            checkpoints.append(item)
    return events, checkpoints


def coverage_problems(lines: list[str]) -> list[str]:
    """An export may only stand for the whole agreement if it holds its history from the
    first event (the verifier trusts where a partial export starts) and proves every
    event part of its signed checkpoint."""
    events, checkpoints = events_of(lines)
    problems = []
    versions = [e["version"] for e in events]
    if versions != list(range(1, len(versions) + 1)):
        problems.append("the export does not hold the agreement's events from its first on")
    elif events and events[0]["fields"].get("previous_hash") != GENESIS:
        problems.append("the agreement's first event does not start a chain")
    proofs = [json.loads(line) for line in lines if '"proof"' in line]
    proofs = [p for p in proofs if p.get("kind") == "proof"]
    covered = {int(v) for p in proofs for v in p.get("leaves", {})}
    if not proofs or not checkpoints or covered != set(versions):
        problems.append("the export does not prove every event part of a signed checkpoint")
    return problems


def event_class(topic: str) -> str:
    """`domain.agreement_events:Proposed` -> `Proposed`."""
    return topic.rpartition(":")[2].rpartition(".")[2]


def facts_from_export(lines: Iterable[str], public_key_b64: str) -> dict[str, Any]:
    """Everything the dossier prints, from the export of one agreement (its events in
    order, the checkpoint covering them). Raises ValueError on an export that is not one
    agreement's history from its start."""
    events, checkpoints = events_of(lines)
    if not events:
        raise ValueError("the export holds no events")
    streams = {e["stream"] for e in events}
    if len(streams) != 1:
        raise ValueError("the export holds more than one agreement")
    if not checkpoints:
        raise ValueError("the export holds no checkpoint")
    checkpoint = checkpoints[-1]
    state = _Replay(str(events[0]["stream"]))
    for item in events:
        state.apply(item)
    as_of = _day(checkpoint["recordedAt"])
    last = events[-1]
    return {
        "format": FORMAT,
        "agreementId": state.agreement_id,
        "title": state.title,
        "employeeId": state.employee_id,
        "status": state.status,
        "careerGoal": state.career_goal,
        "skills": state.skills_practised(),
        "evidence": state.evidence,
        "sketch": state.sketch_facts(),
        "hoursByMonth": state.hours_by_month(as_of),
        "decisions": state.decisions,
        "verification": {
            "agreementId": state.agreement_id,
            "lastVersion": last["version"],
            "lastEventHash": event_hash(
                last["stream"], last["version"], last["topic"], last["fields"]
            ),
            "checkpoint": {
                "position": checkpoint["position"],
                "size": checkpoint["size"],
                "root": checkpoint["root"],
                "recordedAt": checkpoint["recordedAt"],
            },
            "keyFingerprint": fingerprint(public_key_b64),
        },
    }


def _day(timestamp: str) -> date:
    return datetime.fromisoformat(timestamp).date()


def _hours(value: float) -> str:
    """Hours as printed: at most one decimal, no trailing zero."""
    return f"{round(value, 1):g}"


class _Replay:
    """An agreement's history replayed for what a dossier shows (the aggregate's rules
    are not re-judged: the events are what happened)."""

    def __init__(self, agreement_id: str) -> None:
        self.agreement_id = agreement_id
        self.title = ""
        self.employee_id = ""
        self.status = "PROPOSED"
        self.career_goal: dict[str, Any] = {"targetRole": "", "skills": [], "targetDate": None}
        self.evidence: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        # adjustment id -> (hours per week, starts on, ends on, root change id)
        self.adjustments: dict[str, tuple[float, date | None, date | None, str]] = {}
        self.roots: dict[str, str] = {}  # change id -> its root change id
        self.sketch: dict[str, Any] | None = None  # the sketch in effect
        # sketch change id -> (the sketch before it, the sketch after it)
        self.sketches: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
        self.chains: dict[str, int] = {}  # root change id -> changes in its chain
        self.days: list[tuple[date, list[Span]]] = []  # (day, adjustments in effect from then)

    def apply(self, item: dict[str, Any]) -> None:
        name = event_class(str(item["topic"]))
        fields = _Texts(item)(item["fields"])
        on = _day(fields["timestamp"])
        if name in ("Proposed", "ProposalRevised"):
            self._proposal(name, fields)
        elif name == "Approved":
            self.status = "ACTIVE"
        elif name == "AdjustmentAdded":
            self._adjustment(fields["adjustment"])
        elif name == "SketchChanged":
            self.sketches[fields["change_id"]] = (self.sketch, fields["sketch"])
            self.roots[fields["change_id"]] = fields["change_id"]
            self.sketch = fields["sketch"]
        elif name == "ChangeReverted":
            head = fields["reverted_change_id"]
            root = self.roots.get(head, head)
            self.roots[fields["change_id"]] = root
            self.chains[root] = self.chains.get(root, 1) + 1
            if head in self.sketches:  # the sketch that change replaced is back
                before, after = self.sketches[head]
                self.sketches[fields["change_id"]] = (after, before)
                self.sketch = before
        elif name == "ReviewRecorded":
            self._review(fields["review"], fields)
        elif name == "ArtifactRecorded":
            self._artifact(fields["artifact"], fields)
        elif name in ("Paused", "Rejected", "Completed", "Withdrawn"):
            self.status = {"Paused": "PAUSED", "Rejected": "REJECTED"}.get(name, name.upper())
        elif name == "Resumed":
            self.status = "ACTIVE"
        elif name == "ChangesRequested":
            self.status = "CHANGES_REQUESTED"
        if name in DECISIONS:
            self.decisions.append(
                {
                    "date": on.isoformat(),
                    "what": DECISIONS[name],
                    "by": fields["actor_id"],
                    "role": fields["actor_role"],
                    "reason": fields.get("reason"),
                    "version": item["version"],
                }
            )
        self.days.append((on, self._in_effect()))

    def _proposal(self, name: str, fields: dict[str, Any]) -> None:
        if name == "Proposed":
            self.employee_id = fields["employee_id"]
        self.title = fields["title"]
        goal = fields.get("career_goal") or {
            "target_role": fields.get("target_role", ""),
            "skills": fields.get("skills", []),
        }
        self.career_goal = {
            "targetRole": goal["target_role"],
            "skills": list(goal.get("skills") or []),
            "targetDate": goal.get("target_date"),
        }
        self.status = "PROPOSED"
        self.adjustments, self.roots, self.chains = {}, {}, {}
        for adjustment in fields.get("adjustments") or []:
            self._adjustment(adjustment)

    def _adjustment(self, a: dict[str, Any]) -> None:
        change = a["change_id"]
        self.roots[change] = change
        self.chains[change] = 1
        starts = date.fromisoformat(a["starts_on"]) if a.get("starts_on") else None
        ends = date.fromisoformat(a["ends_on"]) if a.get("ends_on") else None
        self.adjustments[a["id"]] = (float(a["hours_per_week"]), starts, ends, change)

    def _review(self, review: dict[str, Any], fields: dict[str, Any]) -> None:
        notes = review.get("notes")
        self.evidence.append(
            {
                "date": review["held_on"],
                "kind": "REVIEW",
                "title": f"Review: {str(review['outcome']).replace('_', ' ').lower()}",
                "detail": f"Manager's notes: {notes}" if notes else None,
                "skills": [],
                "by": review.get("held_by") or fields["actor_id"],
            }
        )

    def _artifact(self, artifact: dict[str, Any], fields: dict[str, Any]) -> None:
        self.evidence.append(
            {
                "date": artifact["recorded_on"],
                "kind": "ARTIFACT",
                "title": f"{artifact['title']} ({artifact['kind']})",
                "detail": f"Link: {artifact['url']}" if artifact.get("url") else None,
                "skills": list(artifact.get("skills") or []),
                "by": artifact.get("recorded_by") or fields["actor_id"],
            }
        )

    def _in_effect(self) -> list[Span]:
        if self.status != "ACTIVE":
            return []
        return [
            (hours, starts, ends)
            for hours, starts, ends, root in self.adjustments.values()
            if self.chains.get(root, 1) % 2 == 1
        ]

    def sketch_facts(self) -> dict[str, Any] | None:
        """The sketch in effect: the job before and after crafting, the relationships to
        build and the purpose (what happened to each block read from it, as the service
        reads it: added without a source, dropped at 0%, else kept or resized)."""
        if self.sketch is None:
            return None
        s = self.sketch
        before = {b["id"]: b for b in s.get("before") or []}

        def move(block: dict[str, Any]) -> str:
            source = before.get(block.get("from_block_id") or "")
            if source is None:
                return "ADDED"
            if block["share"] == 0:
                return "DROPPED"
            return "KEPT" if block["share"] == source["share"] else "RESIZED"

        carried = {b.get("from_block_id") for b in s.get("after") or [] if b["share"] > 0}
        after = s.get("after") or []
        return {
            "before": [
                {"name": b["name"], "share": b["share"], "energy": b["energy"]}
                for b in s.get("before") or []
            ],
            "after": [
                {
                    "name": b["name"],
                    "share": b["share"],
                    "energy": b["energy"],
                    "move": move(b),
                    "skill": b.get("skill"),
                }
                for b in after
            ],
            "dropped": [b["name"] for b in before.values() if after and b["id"] not in carried],
            "relationships": [
                {
                    "kind": r["kind"],
                    "who": r.get("person_id") or r.get("name") or "",
                    "note": r.get("note"),
                }
                for r in s.get("relationships") or []
            ],
            "purpose": s.get("purpose"),
        }

    def skills_practised(self) -> list[dict[str, Any]]:
        """Each skill of the career goal or of the evidence, with the dates of its evidence."""
        names = list(self.career_goal["skills"])
        for e in self.evidence:
            names.extend(s for s in e["skills"] if s not in names)
        return [
            {
                "skill": name,
                "evidence": sorted({e["date"] for e in self.evidence if name in e["skills"]}),
            }
            for name in names
        ]

    def hours_by_month(self, as_of: date) -> list[dict[str, Any]]:
        """Development hours in effect, day by day up to `as_of` (the signed checkpoint's
        day), summed per calendar month: an adjustment counts from its start to its end
        while the agreement is active and the adjustment not reverted."""
        if not self.days:
            return []
        totals: dict[str, float] = {}
        index, in_effect = 0, list[Span]()
        day = self.days[0][0]
        while day <= as_of:
            while index < len(self.days) and self.days[index][0] <= day:
                in_effect = self.days[index][1]
                index += 1
            hours = sum(
                h
                for h, starts, ends in in_effect
                if (starts is None or starts <= day) and (ends is None or day <= ends)
            )
            month = day.strftime("%Y-%m")
            totals[month] = totals.get(month, 0.0) + hours / 7
            day += timedelta(days=1)
        return [{"month": m, "hours": round(h, 1)} for m, h in totals.items() if h > 0]


# The sections of facts, in the order printed, each under its heading; the verified part of
# the text runs from the first heading to END (what follows is help, not facts).
SECTIONS = (
    ("goal", "Career goal"),
    ("skills", "Skills practised, with dated evidence"),
    ("evidence", "Evidence: artifacts, reviews, manager's notes"),
    ("sketch", "The job before and after crafting"),
    ("hours", "Hours invested per month"),
    ("decisions", "Who approved what and when"),
    ("verification", "Verification"),
)
END = "People named in this dossier"
NOTHING = "None recorded."


def printed_sections(facts: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each section's heading and lines, exactly as the dossier prints them."""
    lines = printed_lines(facts)
    return [
        (heading, [line for s, line in lines if s == key] or [NOTHING]) for key, heading in SECTIONS
    ]


def printed_lines(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """Every fact as the line the dossier prints it, by section: the template prints these
    strings and the verifier looks for each in the PDF's text."""
    lines: list[tuple[str, str]] = []
    goal = facts["careerGoal"]
    lines.append(("goal", f"Target role: {goal['targetRole']}"))
    if goal.get("targetDate"):
        lines.append(("goal", f"Target date: {goal['targetDate']}"))
    lines.append(("goal", f"Agreement: {facts['title']} (status {facts['status']})"))
    lines.append(("goal", f"Employee: {facts['employeeId']}"))
    for s in facts["skills"]:
        dates = ", ".join(s["evidence"]) if s["evidence"] else "no dated evidence yet"
        lines.append(("skills", f"{s['skill']}: {dates}"))
    for e in facts["evidence"]:
        skills = f"; skills: {', '.join(e['skills'])}" if e["skills"] else ""
        lines.append(("evidence", f"{e['date']} {e['title']}, recorded by {e['by']}{skills}"))
        if e.get("detail"):
            lines.append(("evidence", str(e["detail"])))
    lines.extend(("sketch", line) for line in _sketch_lines(facts.get("sketch")))
    for h in facts["hoursByMonth"]:
        lines.append(("hours", f"{h['month']}: {_hours(h['hours'])} hours"))
    for d in facts["decisions"]:
        reason = f"; reason: {d['reason']}" if d.get("reason") else ""
        lines.append(
            (
                "decisions",
                f"{d['date']} {d['what']} by {d['by']} ({d['role']}), version "
                f"{d['version']}{reason}",
            )
        )
    v = facts["verification"]
    c = v["checkpoint"]
    lines.extend(
        [
            ("verification", f"Agreement id: {v['agreementId']}"),
            ("verification", f"Last event: version {v['lastVersion']}, hash {v['lastEventHash']}"),
            (
                "verification",
                f"Checkpoint: position {c['position']}, {c['size']} events, root {c['root']}, "
                f"signed {c['recordedAt']}",
            ),
            ("verification", f"Signing key fingerprint (SHA-256): {v['keyFingerprint']}"),
        ]
    )
    return lines


def _word(value: str) -> str:
    return value.replace("_", " ").lower()


def _sketch_lines(sketch: dict[str, Any] | None) -> list[str]:
    if sketch is None:
        return []
    lines = [
        f"Before: {b['name']}, {_hours(b['share'])}% of the week, {_word(b['energy'])}"
        for b in sketch["before"]
    ]
    for b in sketch["after"]:
        skill = f", for the skill {b['skill']}" if b.get("skill") else ""
        lines.append(
            f"After: {b['name']}, {_hours(b['share'])}% of the week, {_word(b['energy'])} "
            f"({_word(b['move'])}){skill}"
        )
    lines.extend(f"Dropped: {name}" for name in sketch["dropped"])
    for r in sketch["relationships"]:
        note = f": {r['note']}" if r.get("note") else ""
        lines.append(f"Relationship ({_word(r['kind'])}): {r['who']}{note}")
    if sketch.get("purpose"):
        lines.append(f"Purpose: {sketch['purpose']}")
    return lines


def differences(printed: Any, derived: Any, path: str = "") -> list[str]:
    """Where two facts documents differ, one line each: `path: printed X, export says Y`."""
    if isinstance(printed, dict) and isinstance(derived, dict):
        found = []
        for key in sorted(set(printed) | set(derived), key=str):
            found += differences(printed.get(key), derived.get(key), f"{path}.{key}".lstrip("."))
        return found
    if isinstance(printed, list) and isinstance(derived, list):
        found = []
        for i in range(max(len(printed), len(derived))):
            here = f"{path}[{i}]"
            if i >= len(printed):
                found.append(f"{here}: missing from the dossier, export says {_show(derived[i])}")
            elif i >= len(derived):
                found.append(f"{here}: the dossier adds {_show(printed[i])}, not in the export")
            else:
                found += differences(printed[i], derived[i], here)
        return found
    if printed != derived:
        return [f"{path}: the dossier says {_show(printed)}, the export says {_show(derived)}"]
    return []


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
