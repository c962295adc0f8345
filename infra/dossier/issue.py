"""Issuing a promotion dossier: the agreement's export with its inclusion proof, the facts
derived from that export, the HTML and the PDF (both embedded), and the issue recorded as
an event of the agreement's dossier register (`IssueDossier`, through `execute`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from domain.access import NEEDED, Actor, Party, acting_role
from domain.application import CraftingApplication, Request
from domain.application.commands import IssueDossier
from domain.dossier.facts import facts_from_export
from domain.errors import Forbidden, NotFound, NotYetCheckpointed
from domain.integrity import Checkpoint, proof_subtrees, verify_export
from domain.values import Role
from infra.audit import merkle_index
from infra.audit.checkpointing import sign_checkpoint
from infra.audit.export import checkpoint_line, openings
from infra.audit.store import Store, checkpoints
from infra.bootstrap import Container
from infra.dossier.render import render_html, render_pdf, render_person_html, render_person_pdf
from infra.keystore import KeyRing
from infra.signing import (
    MissingSigningKeyError,
    public_key_b64,
    signing_key,
    trusted_public_keys,
)
from projections import queries as q

NOT_COVERED = (
    "The agreement's latest changes are not yet covered by a signed checkpoint (one is "
    "signed every few seconds): try again in a minute."
)


@dataclass(frozen=True)
class Dossier:
    """One issued dossier."""

    agreement_id: UUID
    facts: dict[str, Any]
    export: str  # JSON Lines: the verifiable export embedded in the PDF
    html: str
    pdf: bytes
    position: int  # the log position of the issue's event

    @property
    def filename(self) -> str:
        return f"dossier-{self.agreement_id}-v{self.facts['verification']['lastVersion']}.pdf"


@dataclass(frozen=True)
class PersonDossier:
    """One issued dossier of all of a person's agreements the caller may see."""

    person_id: str
    parts: list[dict[str, Any]]  # each agreement's facts, in the order printed
    html: str
    pdf: bytes
    positions: list[int]  # the log positions of the issues' events, one per agreement

    @property
    def filename(self) -> str:
        return f"dossier-person-{self.person_id}.pdf"


@dataclass(frozen=True)
class _Part:
    """One agreement's part of a dossier, ready to record and print."""

    agreement_id: UUID
    employee_id: str
    lines: list[str]
    facts: dict[str, Any]
    facts_json: str


@dataclass(frozen=True)
class Issuer:
    """What issuing needs of the service."""

    app: CraftingApplication
    store: Store
    keys: KeyRing | None
    public_key: str  # the checkpoints' signing key, printed as a fingerprint
    signing_key: Ed25519PrivateKey | None  # signs a checkpoint when none covers it yet
    reader: Engine  # the read models: which agreements a person has

    def issue(self, request: Request, agreement_id: UUID) -> Dossier:
        """A dossier of the agreement for the caller (the employee, their manager or HR),
        its issue recorded; Forbidden, NotFound or NotYetCheckpointed otherwise."""
        part = self._part(agreement_id, self.may_receive(request.actor, agreement_id))
        position = self._record(request, part)
        issued_at = datetime.now(UTC).replace(microsecond=0)
        names = self._names(part.facts, part.employee_id, request.actor.id)
        html = render_html(part.facts, names, request.actor.id, issued_at)
        export = "\n".join(part.lines) + "\n"
        pdf = render_pdf(html, export, part.facts_json)
        return Dossier(agreement_id, part.facts, export, html, pdf, position)

    def issue_person(self, request: Request, person_id: str) -> PersonDossier:
        """One dossier of every agreement of the person that the caller may be issued
        (the person, their manager or HR), each agreement's issue recorded; Forbidden
        (NotFound for HR) when there is none, NotYetCheckpointed as for one agreement."""
        agreements = self.person_agreements(request.actor, person_id)
        # Every part is prepared before any is recorded: a refusal records nothing.
        parts = [self._part(aid, employee) for aid, employee in agreements]
        parts.sort(key=lambda p: int(json.loads(p.lines[1])["position"]))
        positions = [self._record(request, part) for part in parts]
        issued_at = datetime.now(UTC).replace(microsecond=0)
        names: dict[str, str] = {}
        for part in parts:
            names |= self._names(part.facts, person_id, request.actor.id)
        facts = [part.facts for part in parts]
        html = render_person_html(person_id, facts, names, request.actor.id, issued_at)
        pdf = render_person_pdf(
            html,
            [(str(p.agreement_id), "\n".join(p.lines) + "\n", p.facts_json) for p in parts],
        )
        return PersonDossier(person_id, facts, html, pdf, positions)

    def person_agreements(self, actor: Actor, person_id: str) -> list[tuple[UUID, str]]:
        """The person's agreements (as the read models know them) whose dossier the actor
        may be issued, with their employee; Forbidden (NotFound for HR) if none."""
        with self.reader.connect() as conn:
            ids = q.agreement_ids_of(conn, q.live_read_model(conn), person_id)
        mine = []
        for aid in sorted(ids):
            try:
                mine.append((UUID(aid), self.may_receive(actor, UUID(aid))))
            except (Forbidden, NotFound):
                continue  # not theirs to see: left out, not named
        if not mine:
            if actor.has(Role.HR):
                raise NotFound("This person has no agreements.", "personId")
            raise Forbidden(NEEDED[Party.CONTRIBUTOR])
        return mine

    def _part(self, agreement_id: UUID, employee_id: str) -> _Part:
        """The agreement's export (checkpointed and verified) and its facts."""
        lines = self.export_lines(agreement_id)
        verified = verify_export(lines, self.public_key)
        if verified.first_break is not None:  # never issue what a panel would reject
            raise NotYetCheckpointed(
                "This agreement's history does not verify; the dossier was not issued (an "
                "alarm says why: run `crafting verify`).",
                "agreementId",
            )
        facts = facts_from_export(lines, self.public_key)
        facts_json = json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=1)
        return _Part(agreement_id, employee_id, lines, facts, facts_json)

    def _record(self, request: Request, part: _Part) -> int:
        """The issue recorded in the agreement's dossier register; its log position."""
        v = part.facts["verification"]
        result = self.app.execute(
            request,
            IssueDossier(
                agreement_id=part.agreement_id,
                agreement_version=int(v["lastVersion"]),
                last_event_hash=str(v["lastEventHash"]),
                checkpoint_position=int(v["checkpoint"]["position"]),
                facts_digest=hashlib.sha256(part.facts_json.encode()).hexdigest(),
            ),
        )
        return result.position

    def may_receive(self, actor: Actor, agreement_id: UUID) -> str:
        """The agreement's employee, if the actor may be issued its dossier (as the
        command checks it: refused before any work is done)."""
        agreement = self.app.load_agreement(agreement_id)
        if agreement is None:
            if actor.has(Role.HR):
                raise NotFound("No agreement with this id.", "agreementId")
            raise Forbidden(NEEDED[Party.CONTRIBUTOR])
        manager = self.app.manager_of(agreement.employee_id)
        acting_role(actor, Party.CONTRIBUTOR, agreement.employee_id, manager)
        return agreement.employee_id

    def export_lines(self, agreement_id: UUID) -> list[str]:
        """The agreement's events up to the latest checkpoint that covers them all, that
        checkpoint, and the proof that they are part of it (JSON Lines, format 2)."""
        covered = self._covered(agreement_id)
        if covered is None and self.signing_key is not None:
            sign_checkpoint(self.store, self.signing_key)
            covered = self._covered(agreement_id)
        if covered is None:
            raise NotYetCheckpointed(NOT_COVERED, "agreementId")
        checkpoint, leaves = covered
        sid = str(agreement_id)
        header = {
            "kind": "header",
            "scope": "agreement",
            "format": 2,
            "exportedAt": datetime.now(UTC).isoformat(),
        }
        lines = [json.dumps(header)]
        for stored in self.store.recorder.select_events(agreement_id):
            version = stored.originator_version
            if version not in leaves:
                break  # written after the checkpoint: the next dossier shows it
            record = self.store.record_of(stored, leaves[version][1])
            item = {
                "kind": "event",
                "position": record.position,
                "stream": sid,
                "version": version,
                "topic": record.topic,
                "fields": record.fields,
                **openings(record.fields, self.keys),
            }
            lines.append(json.dumps(item, ensure_ascii=False))
        lines.append(checkpoint_line(checkpoint).rstrip("\n"))
        at = {leaf: idx for leaf, (idx, _) in leaves.items()}
        with self.store.engine.connect() as conn:
            wanted = proof_subtrees(checkpoint.size, sorted(at.values()))
            subtrees = merkle_index.subtrees(conn, wanted)
        proof = {
            "kind": "proof",
            "stream": sid,
            "checkpoint": checkpoint.position,
            "leaves": {str(v): idx for v, idx in sorted(at.items())},
            "subtrees": [[lo, hi, subtrees[(lo, hi)].hex()] for lo, hi in wanted],
        }
        lines.append(json.dumps(proof))
        return lines

    def _covered(self, agreement_id: UUID) -> tuple[Checkpoint, dict[int, tuple[int, int]]] | None:
        """The latest checkpoint and, by version, the leaf and log position of each of
        the agreement's events it covers; None unless it covers every event."""
        sid = str(agreement_id)
        last = self.store.latest_checkpoint()
        if last is None:
            return None
        size = int(last["size"])
        with self.store.engine.connect() as conn:
            if merkle_index.indexed_size(conn) < size:
                return None
            leaf = merkle_index.leaves
            rows = conn.execute(
                select(leaf.c.version, leaf.c.idx, leaf.c.position).where(
                    leaf.c.stream == sid, leaf.c.idx < size
                )
            ).all()
            head = conn.execute(
                select(checkpoints).where(checkpoints.c.position == last["position"])
            ).first()
        leaves = {int(v): (int(i), int(p)) for v, i, p in rows}
        newest = self.store.recorder.select_events(agreement_id, desc=True, limit=1)
        if head is None or not newest or newest[0].originator_version not in leaves:
            return None
        checkpoint = Checkpoint(
            int(last["position"]),
            size,
            str(last["root"]),
            str(last["recorded_at"]),
            str(last["signature"]),
        )
        return checkpoint, leaves

    def _names(self, facts: dict[str, Any], *more: str) -> dict[str, str]:
        """Display names of the people the facts name by id (as the directory has them
        now; "[erased]" for the erased), for the dossier's legend."""
        ids = {facts["employeeId"], *more}
        ids |= {e["by"] for e in facts["evidence"]} | {d["by"] for d in facts["decisions"]}
        ids |= {r["who"] for r in (facts.get("sketch") or {}).get("relationships", [])}
        names = {}
        for pid in sorted(ids):
            person = self.app.find_person(pid)
            if person is not None:
                names[pid] = str(person.profile.display_name)
        return names


def issuer_of(container: Container) -> Issuer:
    """The issuer of a bootstrapped service (signs a checkpoint when this process holds
    the signing key and none covers the agreement yet)."""
    try:
        key: Ed25519PrivateKey | None = signing_key(container.settings)
    except MissingSigningKeyError:
        key = None
    trusted = sorted(trusted_public_keys(container.settings))
    public = public_key_b64(key) if key is not None else (trusted[0] if trusted else "")
    return Issuer(
        container.app, container.store, container.keys, public, key, container.engines.reader
    )
