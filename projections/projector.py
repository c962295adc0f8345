"""Applies a batch of events to the read tables: rows are loaded once per batch, changed
in memory, and written back with one bulk statement per table, so throughput does not
depend on round trips per event. One class (hence its length): every handler changes
the same in-memory rows of the batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Connection, Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.agreement import events as ev
from domain.agreement import outcomes as oc
from domain.agreement.state import hours_in_effect
from domain.directory_guard import DeactivationGuard
from domain.dossier.register import DossierRegister
from domain.idempotency import IdempotencyRecord
from domain.metadata import RecordedEvent
from domain.person import Person, Provisioning
from domain.records import Adjustment, ChangeKind, Reallocation
from domain.sealing import stored, stored_cells
from domain.values import FINAL_STATUSES, AgreementStatus, ChangeStatus
from domain.webhooks import WebhookSubscription
from projections.insights import kept_outcomes, kept_skills
from projections.insights.keyed import GroupHasher
from projections.insights.month_close import closing_rows, figures_of_rows
from projections.insights.months import InsightClock, TeamFigures, team_figures
from projections.name_index import NameIndex
from projections.payload import camel_json, event_payload
from projections.rows import (
    Row,
    adjustment_row,
    artifact_row,
    goal_columns,
    profile_columns,
    provisioning_columns,
    reallocation_row,
    review_row,
)
from projections.tables import ReadModel

FINAL = frozenset(str(status) for status in FINAL_STATUSES)
CHUNK = 500  # ids per IN (...) list, below SQLite's parameter limit


class BatchProjector:
    """Incremental: one batch, one transaction, `apply` once on the caller's connection.

    Rebuild (`remember=True`): one projector for the whole rebuild, fed with `project`
    and written with `flush` every so often. Rows stay in memory between flushes, so
    nothing is read back and a row changed by many events is written once per flush;
    agreements that reached a final status (no event can touch them again) are
    dropped from memory when flushed. The new tables are invisible until the switch,
    and an interrupted rebuild starts over, so delaying writes is safe.
    """

    def __init__(
        self,
        conn: Connection | None,
        rm: ReadModel,
        *,
        remember: bool = False,
        names: NameIndex | None = None,
    ) -> None:
        self.conn: Any = conn
        self.rm = rm
        self.remember = remember
        # The name index (projections.name_index): without one, no names are indexed.
        self.names = names
        # The insights' keyed hashes (projections.insights.keyed), keyed like the name
        # index: without one, the insights' outcomes and skills are not kept.
        self.hasher = None if names is None else GroupHasher.of(names)
        # Whose latest outcome to recompute (projections.insights.kept_outcomes) once the
        # batch is written: people (and agreements, whose person is looked up then, as a
        # rebuild may have forgotten them) -> the position of the latest event reaching them.
        self.outcome_people: dict[str, int] = {}
        self.outcome_agreements: dict[str, int] = {}
        self.erased: set[str] = set()
        self.name_tokens: dict[str, set[str]] = {}  # person id → hashed words, to write
        self.owned: dict[str, set[tuple[str, str]]] = {}  # agreement -> (store, key)
        self.agreements: dict[str, Row] = {}
        self.changes: dict[str, Row] = {}
        self.adjustments: dict[str, Row] = {}
        self.reallocations: dict[str, Row] = {}
        self.people: dict[str, Row] = {}  # by stream id
        # Outcomes by id. Never forgotten in a rebuild: they are recorded on ended
        # agreements, few, and a later revert changes them.
        self.outcomes: dict[str, Row] = {}
        # A rebuild's ended agreements written and forgotten (`_forget_final`) that an
        # outcome event reached since: their new version, position and time, to update.
        self.late: dict[str, Row] = {}
        self.dirty: dict[str, set[str]] = {
            name: set()
            for name in (
                "agreements",
                "changes",
                "adjustments",
                "reallocations",
                "outcomes",
                "people",
            )
        }
        self.inserts: dict[str, list[Row]] = {
            name: []
            for name in (
                "reviews",
                "artifacts",
                "audit_log",
                "insight_months",
                "insight_memberships",
                "insight_skills",
            )
        }
        # The insights' clock (projections.insights.months): loaded with the batch's
        # rows; a rebuild starts from none.
        self.clock: InsightClock | None = InsightClock() if remember else None
        self.revised: set[str] = set()
        self.written: dict[str, set[str]] = {name: set() for name in self.dirty}

    def apply(self, items: Sequence[tuple[int, Any]]) -> None:
        """Project (position, event) pairs, in order, and write the result."""
        self.project(items)
        self.flush()

    def project(self, items: Sequence[tuple[int, Any]]) -> None:
        """Apply events to the rows in memory (loading what is missing, unless
        remembering everything since position 0)."""
        if not self.remember:
            self._preload([event for _, event in items])
        for position, event in items:
            if isinstance(event, IdempotencyRecord.Recorded):
                continue  # bookkeeping of keys, not history
            self._close_months(event)
            self._audit(position, event)
            if isinstance(event, ev.AgreementEvent):
                self._agreement_event(position, event)
            elif isinstance(event, Person.Event):
                self._person_event(position, event)

    def _close_months(self, event: RecordedEvent) -> None:
        """Store the teams' figures of the months `event` is the first to be later than
        (projections.insights.months, month_close): the rows are as they were at their
        end."""
        if self.clock is None:
            self.clock = InsightClock.load(self.conn, self.rm)
        closed = self.clock.closed_by(event.timestamp)
        if closed:
            if not self.remember:  # the tables hold the rest: write this batch's rows first
                self.flush()
            self.inserts["insight_months"] += closing_rows(closed, self._team_figures)
        self.clock.saw(event.timestamp, isinstance(event, ev.Approved))

    def _team_figures(self, today: date) -> list[TeamFigures]:
        if self.remember:  # every person and running agreement is in memory
            return figures_of_rows(self.people.values(), self.agreements.values(), today)
        return team_figures(self.conn, self.rm, today)

    # --- loading --------------------------------------------------------------

    def _preload(self, events: list[Any]) -> None:
        ids = {str(e.originator_id) for e in events if isinstance(e, ev.AgreementEvent)}
        deep = {
            str(e.originator_id)
            for e in events
            if isinstance(e, ev.ChangeReverted | ev.ProposalRevised)
        }
        # The development hours are summed over all of an agreement's adjustments.
        summed = deep | {str(e.originator_id) for e in events if isinstance(e, ev.AdjustmentAdded)}
        rm = self.rm
        self._load(
            rm.agreements, rm.agreements.c.agreement_id, ids, self.agreements, "agreement_id"
        )
        self._load(rm.changes, rm.changes.c.agreement_id, deep, self.changes, "change_id")
        self._load(
            rm.adjustments,
            rm.adjustments.c.agreement_id,
            summed,
            self.adjustments,
            "adjustment_id",
        )
        self._load(
            rm.reallocations,
            rm.reallocations.c.agreement_id,
            deep,
            self.reallocations,
            "reallocation_id",
        )
        reverted = {str(e.originator_id) for e in events if isinstance(e, oc.OutcomeReverted)}
        self._load(rm.outcomes, rm.outcomes.c.agreement_id, reverted, self.outcomes, "outcome_id")
        people = {
            str(e.originator_id)
            for e in events
            if isinstance(e, Person.Event) and not isinstance(e, Person.Registered)
        }
        self._load(rm.people, rm.people.c.stream_id, people, self.people, "stream_id")

    def _load(
        self, table: Table, column: Any, keys: Iterable[str], into: dict[str, Row], key: str
    ) -> None:
        wanted = sorted(keys)
        for start in range(0, len(wanted), CHUNK):
            rows = self.conn.execute(select(table).where(column.in_(wanted[start : start + CHUNK])))
            for row in rows.mappings():
                into[row[key]] = dict(row)
                if key not in ("agreement_id", "outcome_id") and "agreement_id" in row:
                    self._own(row["agreement_id"], into, row[key])

    # --- events ---------------------------------------------------------------

    def _agreement_event(self, position: int, event: Any) -> None:
        aid = str(event.originator_id)
        if isinstance(event, ev.Proposed):
            self.agreements[aid] = {
                "agreement_id": aid,
                "employee_id": event.employee_id,
                "approved_by_manager_id": None,
                "status": str(AgreementStatus.PROPOSED),
                "guardrails": None,
                "sketch": None,
                "development_hours": 0.0,
                "next_review_on": None,
                "approved_at": None,
                "created_at": event.timestamp,
                "created_position": position,
            }
            self._content(aid, event, position)
        row = self.agreements.get(aid) if self.remember else self.agreements[aid]
        if row is None:
            # A rebuild forgot this ended agreement once written: only outcome events
            # still reach an ended agreement, and they change these columns and outcomes.
            row = self.late.setdefault(aid, {"agreement_id": aid})
        else:
            self.dirty["agreements"].add(aid)
        row.update(version=event.originator_version, position=position, updated_at=event.timestamp)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, row, event, position)

    def _content(self, aid: str, event: ev.Proposed | ev.ProposalRevised, position: int) -> None:
        row = self.agreements[aid]
        row.update(goal_columns(event.title, event.career_goal))
        for seq, item in enumerate(event.adjustments):
            self._add_adjustment(row, item, event, position, seq)
        self._sum_development_hours(row)

    def _sum_development_hours(self, row: Row) -> None:
        """The agreement's development hours, derived from its adjustments as the
        aggregate derives them (domain.agreement.state.hours_in_effect), never kept
        as a running total."""
        owned = self.owned.get(row["agreement_id"], set())
        items = sorted(
            (self.adjustments[key] for name, key in owned if name == "adjustments"),
            key=lambda a: (a["position"], a["seq"]),
        )
        row["development_hours"] = hours_in_effect(
            (a["hours_per_week"], a["status"]) for a in items
        )

    def _add_adjustment(
        self, row: Row, item: Adjustment, event: Any, position: int, seq: int = 0
    ) -> None:
        self.adjustments[item.id] = {
            **adjustment_row(row["agreement_id"], item),
            "agreement_position": row["created_position"],
            "position": position,
            "seq": seq,
        }
        self.dirty["adjustments"].add(item.id)
        self._own(row["agreement_id"], self.adjustments, item.id)
        self._add_change(
            row, event, position, item.change_id, str(ChangeKind.ADJUSTMENT_ADDED), item.id, seq=seq
        )

    def _add_change(
        self,
        row: Row,
        event: Any,
        position: int,
        change_id: str,
        kind: str,
        subject_id: str,
        **extra: Any,
    ) -> Row:
        change = {
            "change_id": change_id,
            "agreement_id": row["agreement_id"],
            "agreement_position": row["created_position"],
            "kind": kind,
            "root_id": extra.pop("root_id", change_id),
            "subject_id": subject_id,
            "version": event.originator_version,
            "reverts": None,
            "reverted_by": None,
            "effective": True,
            "guardrails_before": None,
            "guardrails_after": None,
            "sketch_before": None,
            "sketch_after": None,
            "recorded_at": event.timestamp,
            "position": position,
            "seq": 0,
            **extra,
        }
        self.changes[change_id] = change
        self.dirty["changes"].add(change_id)
        self._own(row["agreement_id"], self.changes, change_id)
        return change

    def _own(self, aid: str, store: dict[str, Row], key: str) -> None:
        name = (
            "adjustments"
            if store is self.adjustments
            else "changes"
            if store is self.changes
            else "reallocations"
        )
        self.owned.setdefault(aid, set()).add((name, key))

    def revise(self, row: Row, event: ev.ProposalRevised, position: int) -> None:
        aid = row["agreement_id"]
        self.revised.add(aid)
        owned = self.owned.get(aid, set())
        for name, key in [(n, k) for n, k in owned if n in ("adjustments", "changes")]:
            getattr(self, name).pop(key, None)
            self.dirty[name].discard(key)
            owned.discard((name, key))
        row["status"] = str(AgreementStatus.PROPOSED)
        if row.get("sketch"):
            # As the aggregate does: links to the replaced adjustments go.
            ids = {a.id for a in event.adjustments}
            row["sketch"] = {
                **row["sketch"],
                "after": [
                    b if b.get("adjustmentId") in ids else {**b, "adjustmentId": None}
                    for b in row["sketch"].get("after", [])
                ],
            }
        self._content(aid, event, position)

    def approve(self, row: Row, event: ev.Approved, position: int) -> None:
        row.update(
            status=str(AgreementStatus.ACTIVE),
            approved_by_manager_id=event.manager_id,
            next_review_on=event.next_review_on,
            approved_at=event.timestamp,
        )
        if self.hasher is not None:  # a goal's skills count once it is approved (it is final)
            self.inserts["insight_skills"] += kept_skills.skill_rows(
                kept_skills.GOAL,
                row["agreement_id"],
                row["agreement_id"],
                row["employee_id"],
                stored(list(row["skills"])),
                position,
                self.hasher,
            )
        self._change_guardrails(row, event, position, event.guardrails_change_id)

    def set_guardrails(self, row: Row, event: ev.GuardrailsChanged, position: int) -> None:
        self._change_guardrails(row, event, position, event.change_id)

    def _change_guardrails(self, row: Row, event: Any, position: int, change_id: str) -> None:
        """Approval and later guardrail changes record the same kind of change."""
        rails = camel_json(event.guardrails)
        self._add_change(
            row,
            event,
            position,
            change_id,
            str(ChangeKind.GUARDRAILS_CHANGED),
            change_id,
            guardrails_before=row["guardrails"],
            guardrails_after=rails,
        )
        row["guardrails"] = rails

    def add_adjustment(self, row: Row, event: ev.AdjustmentAdded, position: int) -> None:
        self._add_adjustment(row, event.adjustment, event, position)
        self._sum_development_hours(row)

    def reallocate(self, row: Row, event: ev.TaskReallocated, position: int) -> None:
        item: Reallocation = event.reallocation
        self.reallocations[item.id] = {
            **reallocation_row(row["agreement_id"], item),
            "agreement_position": row["created_position"],
            "position": position,
        }
        self.dirty["reallocations"].add(item.id)
        self._own(row["agreement_id"], self.reallocations, item.id)
        self._add_change(
            row, event, position, item.change_id, str(ChangeKind.TASK_REALLOCATED), item.id
        )

    def revert(self, row: Row, event: ev.ChangeReverted, position: int) -> None:
        head = self.changes[event.reverted_change_id]
        head["reverted_by"] = event.change_id
        root = self.changes[head["root_id"]]
        root["effective"] = not root["effective"]
        self.dirty["changes"].update((head["change_id"], root["change_id"]))
        self._add_change(
            row,
            event,
            position,
            event.change_id,
            str(ChangeKind.CHANGE_REVERTED),
            root["subject_id"],
            root_id=root["change_id"],
            reverts=head["change_id"],
            guardrails_before=head["guardrails_after"],
            guardrails_after=head["guardrails_before"],
            sketch_before=head["sketch_after"],
            sketch_after=head["sketch_before"],
        )
        status = str(ChangeStatus.ACTIVE if root["effective"] else ChangeStatus.REVERTED)
        if root["kind"] == ChangeKind.ADJUSTMENT_ADDED:
            adjustment = self.adjustments[root["subject_id"]]
            adjustment["status"] = status
            self.dirty["adjustments"].add(adjustment["adjustment_id"])
            self._sum_development_hours(row)
        elif root["kind"] == ChangeKind.TASK_REALLOCATED:
            self.reallocations[root["subject_id"]]["status"] = status
            self.dirty["reallocations"].add(root["subject_id"])
        elif root["kind"] == ChangeKind.SKETCH_CHANGED:
            row["sketch"] = head["sketch_before"]
        else:
            row["guardrails"] = head["guardrails_before"]

    def set_sketch(self, row: Row, event: ev.SketchChanged, position: int) -> None:
        sketch = camel_json(event.sketch)
        self._add_change(
            row,
            event,
            position,
            event.change_id,
            str(ChangeKind.SKETCH_CHANGED),
            event.change_id,
            sketch_before=row["sketch"],
            sketch_after=sketch,
        )
        row["sketch"] = sketch

    def review(self, row: Row, event: ev.ReviewRecorded, position: int) -> None:
        item = event.review
        row["next_review_on"] = item.next_review_on
        self.inserts["reviews"].append(
            {
                **review_row(row["agreement_id"], item),
                "agreement_position": row["created_position"],
                "position": position,
            }
        )

    def artifact(self, row: Row, event: ev.ArtifactRecorded, position: int) -> None:
        item = event.artifact
        self.inserts["artifacts"].append(
            {
                **artifact_row(row["agreement_id"], row["employee_id"], item),
                "agreement_position": row["created_position"],
                "position": position,
            }
        )
        if self.hasher is not None:
            self.inserts["insight_skills"] += kept_skills.skill_rows(
                kept_skills.EVIDENCE,
                item.id,
                row["agreement_id"],
                row["employee_id"],
                stored(list(item.skills)),
                position,
                self.hasher,
            )

    def record_outcome(self, row: Row, event: oc.OutcomeRecorded, position: int) -> None:
        self.outcomes[event.outcome_id] = {
            "outcome_id": event.outcome_id,
            "agreement_id": row["agreement_id"],
            "kind": event.kind,
            "achieved_on": event.achieved_on,
            "reason": event.reason,
            "recorded_by": event.actor_id,
            "recorded_at": event.timestamp,
            "version": event.originator_version,
            "reverted": False,
            "reverted_by": None,
            "reverted_at": None,
            "revert_reason": None,
            "position": position,
        }
        self.dirty["outcomes"].add(event.outcome_id)
        self.outcome_agreements[row["agreement_id"]] = position

    def revert_outcome(self, row: Row, event: oc.OutcomeReverted, position: int) -> None:
        self.outcomes[event.outcome_id].update(
            reverted=True,
            reverted_by=event.actor_id,
            reverted_at=event.timestamp,
            revert_reason=event.reason,
        )
        self.dirty["outcomes"].add(event.outcome_id)
        self.outcome_agreements[row["agreement_id"]] = position

    def _person_event(self, position: int, event: Person.Event) -> None:
        stream = str(event.originator_id)
        if isinstance(event, Person.Registered):
            self.people[stream] = {
                "person_id": event.person_id,
                "stream_id": stream,
                "legal_hold": False,
                "erased": False,
                "created_at": event.timestamp,
                **provisioning_columns(Provisioning()),
            }
        row = self.people[stream]
        if isinstance(event, Person.Registered | Person.ProfileChanged):
            if event.profile.active:
                row["inactive_since"] = None
            elif row.get("active", True):  # left now (or registered as gone)
                row["inactive_since"] = event.timestamp
            row.update(profile_columns(event.profile))
            self.inserts["insight_memberships"].append(
                {
                    "person_id": row["person_id"],
                    "version": event.originator_version,
                    "since": event.timestamp,
                    "team_id": event.profile.team_id if event.profile.active else None,
                    "position": position,
                }
            )
            self.outcome_people[row["person_id"]] = position  # their team at an outcome
            if self.names is not None:
                self.name_tokens[row["person_id"]] = self.names.tokens_of(
                    str(stored(event.profile.display_name))
                )
        elif isinstance(event, Person.LegalHoldPlaced | Person.LegalHoldLifted):
            row["legal_hold"] = isinstance(event, Person.LegalHoldPlaced)
        elif isinstance(event, Person.PersonErased):
            row["erased"] = True
            self.erased.add(row["person_id"])
            self.outcome_people[row["person_id"]] = position  # their role: unreadable now
            self.name_tokens[row["person_id"]] = set()  # the name is not searchable any more
        elif isinstance(event, Person.ProvisioningChanged):
            row.update(provisioning_columns(event.provisioning))
        row.update(version=event.originator_version, updated_at=event.timestamp)
        self.dirty["people"].add(stream)

    def _audit(self, position: int, event: RecordedEvent) -> None:
        if isinstance(event, ev.AgreementEvent):
            stream_type, agreement_id = "AGREEMENT", str(event.originator_id)
        elif isinstance(event, Person.Event):
            stream_type, agreement_id = "PERSON", None
        elif isinstance(event, DeactivationGuard.Event):
            stream_type, agreement_id = "DIRECTORY", None
        elif isinstance(event, WebhookSubscription.Event):
            stream_type, agreement_id = "WEBHOOK", None
        elif isinstance(event, DossierRegister.Event):
            # Under its agreement, so `auditLog(filter: {agreementId})` shows who was
            # issued a dossier of it and when.
            stream_type, agreement_id = "DOSSIER", str(event.agreement_id)
        else:
            stream_type, agreement_id = "LEDGER", None
        self.inserts["audit_log"].append(
            {
                "position": position,
                "stream_id": str(event.originator_id),
                "stream_type": stream_type,
                "agreement_id": agreement_id,
                "version": event.originator_version,
                "type": type(event).__name__,
                "recorded_at": event.timestamp,
                "actor_id": event.actor_id,
                "actor_role": event.actor_role,
                "reason": event.reason,
                "correlation_id": event.correlation_id,
                "idempotency_key": event.idempotency_key,
                "payload": event_payload(event),
            }
        )

    # --- writing --------------------------------------------------------------

    def flush(self) -> None:
        """Write what changed since the last flush, on `self.conn`."""
        rm = self.rm
        for aid_chunk in _chunks(sorted(self.revised)):
            for table in (rm.adjustments, rm.changes):
                self.conn.execute(delete(table).where(table.c.agreement_id.in_(aid_chunk)))
        for name, store in (
            ("agreements", self.agreements),
            ("changes", self.changes),
            ("adjustments", self.adjustments),
            ("reallocations", self.reallocations),
            ("outcomes", self.outcomes),
            ("people", self.people),
        ):
            keys = sorted(self.dirty[name])
            if self.remember:
                # Rows never written yet are new to the (fresh) tables: append them.
                fresh = [k for k in keys if k not in self.written[name]]
                append(self.conn, getattr(rm, name), [store[k] for k in fresh])
                keys = [k for k in keys if k in self.written[name]]
                self.written[name].update(fresh)
            upsert(self.conn, getattr(rm, name), [store[k] for k in keys])
            self.dirty[name].clear()
        for name, rows in self.inserts.items():
            if rows:
                append(self.conn, getattr(rm, name), rows)
                rows.clear()
        self._write_late()
        self._write_insights()
        if self.clock is not None and self.clock.changed:
            upsert(self.conn, rm.insight_clock, [self.clock.row()])
            self.clock.changed = False
        self._write_name_tokens()
        self.revised.clear()
        if self.remember:
            self._forget_final()

    def _write_late(self) -> None:
        """The forgotten agreements outcome events reached: their columns those change."""
        if not self.late:
            return
        table = self.rm.agreements
        self.conn.execute(
            update(table)
            .where(table.c.agreement_id == bindparam("aid"))
            .values(version=bindparam("v"), position=bindparam("p"), updated_at=bindparam("at")),
            [
                {
                    "aid": r["agreement_id"],
                    "v": r["version"],
                    "p": r["position"],
                    "at": r["updated_at"],
                }
                for r in self.late.values()
            ],
        )
        self.late.clear()

    def _write_insights(self) -> None:
        """The kept insight rows (projections.insights.kept_outcomes, kept_skills), once
        every other row of the batch is written: they are worked out from those."""
        if self.hasher is None:
            return
        rm = self.rm
        kept_skills.erase(self.conn, rm, self.erased)
        self.erased.clear()
        a = rm.agreements
        for chunk in _chunks(sorted(self.outcome_agreements)):
            for aid, pid in self.conn.execute(
                select(a.c.agreement_id, a.c.employee_id).where(a.c.agreement_id.in_(chunk))
            ):
                at = self.outcome_agreements[aid]
                self.outcome_people[pid] = max(at, self.outcome_people.get(pid, at))
        kept_outcomes.refresh(self.conn, rm, self.outcome_people, self.hasher)
        self.outcome_agreements.clear()
        self.outcome_people.clear()

    def _write_name_tokens(self) -> None:
        """Each renamed or erased person's words replace what the index held for them."""
        if not self.name_tokens:
            return
        table = self.rm.name_tokens
        people = sorted(self.name_tokens)
        for chunk in _chunks(people):
            self.conn.execute(delete(table).where(table.c.person_id.in_(chunk)))
        rows = [
            {"person_id": pid, "token": token}
            for pid in people
            for token in sorted(self.name_tokens[pid])
        ]
        if rows:
            append(self.conn, table, rows)
        self.name_tokens.clear()

    def _forget_final(self) -> None:
        """Drop written agreements no event can change any more (final statuses)."""
        for aid in [a for a, r in self.agreements.items() if r["status"] in FINAL]:
            del self.agreements[aid]
            self.written["agreements"].discard(aid)
            for name, key in self.owned.pop(aid, ()):
                getattr(self, name).pop(key, None)
                self.written[name].discard(key)


def _status(status: AgreementStatus) -> Any:
    def handler(_: BatchProjector, row: Row, __: Any, ___: int) -> None:
        row["status"] = str(status)

    return handler


_HANDLERS: dict[type[Any], Any] = {
    ev.ProposalRevised: BatchProjector.revise,
    ev.ChangesRequested: _status(AgreementStatus.CHANGES_REQUESTED),
    ev.Approved: BatchProjector.approve,
    ev.Rejected: _status(AgreementStatus.REJECTED),
    ev.GuardrailsChanged: BatchProjector.set_guardrails,
    ev.AdjustmentAdded: BatchProjector.add_adjustment,
    ev.TaskReallocated: BatchProjector.reallocate,
    ev.ChangeReverted: BatchProjector.revert,
    ev.SketchChanged: BatchProjector.set_sketch,
    ev.ReviewRecorded: BatchProjector.review,
    ev.ArtifactRecorded: BatchProjector.artifact,
    ev.Paused: _status(AgreementStatus.PAUSED),
    ev.Resumed: _status(AgreementStatus.ACTIVE),
    ev.Completed: _status(AgreementStatus.COMPLETED),
    ev.Withdrawn: _status(AgreementStatus.WITHDRAWN),
    oc.OutcomeRecorded: BatchProjector.record_outcome,
    oc.OutcomeReverted: BatchProjector.revert_outcome,
}


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def append(conn: Connection, table: Table, rows: list[Row]) -> None:
    """Insert new rows in bulk: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), [stored(row) for row in rows])  # sealed as envelopes
        return
    statement, names, json_cells = _copy_of(table)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = stored_cells(row, names)  # sealed texts as their envelopes
            for i in json_cells:
                values[i] = Json(values[i])
            copy.write_row(values)


@cache
def _copy_of(table: Table) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """A table's COPY statement, its columns in order and where its JSON columns are:
    worked out once, not per row of every batch."""
    names = tuple(c.name for c in table.columns)
    columns = ", ".join(f'"{n}"' for n in names)
    json_cells = tuple(i for i, c in enumerate(table.columns) if isinstance(c.type, JSON))
    return f'COPY "{table.name}" ({columns}) FROM STDIN', names, json_cells


def upsert(conn: Connection, table: Table, rows: list[Row]) -> None:
    """Insert or replace rows by primary key, as one bulk statement."""
    if rows:
        rows = [stored(row) for row in rows]  # sealed texts as their envelopes
        conn.execute(_upsert_statement(table, conn.dialect.name), rows)


@cache
def _upsert_statement(table: Table, dialect: str) -> Any:
    # Built once per table: every projection batch upserts into the same tables.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
    )
