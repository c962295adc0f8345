"""The promotion dossier on both databases: issued to the employee, their manager or HR
only, recorded in the audit log, parsed back from its PDF (text and embedded files) and
verified offline; each kind of edit to the PDF is caught and named."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from api.cli import cli
from domain.application import Request
from domain.application import commands as c
from domain.dossier.check import (
    EXPORT_NAME,
    FACTS_NAME,
    PART_EXPORT,
    PART_FACTS,
    check_dossier,
    normalized,
    read_pdf,
)
from domain.dossier.register import DossierRegister
from domain.errors import Forbidden, NotFound
from domain.values import ArtifactKind, CareerGoal, ReviewOutcome, Role
from infra.bootstrap import Container
from infra.dossier.issue import Dossier, Issuer, PersonDossier, issuer_of
from infra.dossier.render import render_html, render_pdf, render_person_html, render_person_pdf
from projections import queries as q
from projections.history import agreement_events
from tests.support import Org, draft, request

pytestmark = pytest.mark.pdf  # skipped without pango, except in CI

ROOT = Path(__file__).parents[2]


def _story(container: Container) -> tuple[Org, UUID]:
    container.prepare()  # tables, migrations, the read models' position
    org = Org(container.app)
    agreement = org.active()
    aid = agreement.id
    org.run(
        org.employee,
        c.RecordArtifact(
            agreement_id=aid,
            title="Feature brief: bulk export",
            kind=ArtifactKind.BRIEF,
            url="https://wiki.example.com/briefs/bulk-export",
            skills=["roadmapping"],
        ),
    )
    org.run(
        org.manager,
        c.RecordReview(
            agreement_id=aid,
            held_on=datetime.now(UTC).date(),
            outcome=ReviewOutcome.ON_TRACK,
            notes="Findings landed well; keep the research hours.",
        ),
    )
    return org, aid


def _issue(container: Container, req: Request, aid: UUID) -> tuple[Issuer, Dossier]:
    issuer = issuer_of(container)
    return issuer, issuer.issue(req, aid)


def test_a_dossier_reads_back_from_its_pdf_and_verifies(
    container: Container, tmp_path: Path
) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.employee, aid)
    reader = PdfReader(__import__("io").BytesIO(dossier.pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Target role: Product manager" in text
    assert "Feature brief: bulk export (BRIEF)" in text
    assert "Manager's notes: Findings landed well" in text
    assert str(aid) in text
    files = {name: content[0] for name, content in reader.attachments.items()}
    assert set(files) == {EXPORT_NAME, FACTS_NAME}
    facts = json.loads(files[FACTS_NAME])
    assert facts == dossier.facts
    assert [e["kind"] for e in facts["evidence"]] == ["ARTIFACT", "REVIEW"]
    assert facts["skills"][1] == {
        "skill": "roadmapping",
        "evidence": [facts["evidence"][0]["date"]],
    }
    assert facts["verification"]["lastVersion"] == 4
    outcome = check_dossier(text, files, issuer.public_key)
    assert outcome.ok, outcome.problems
    # Offline: the standalone checker and the command line, with nothing but the file.
    path = tmp_path / "dossier.pdf"
    path.write_bytes(dossier.pdf)
    standalone = subprocess.run(
        [
            sys.executable,
            "-m",
            "domain.dossier.check",
            str(path),
            "--public-key",
            issuer.public_key,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode == 0, standalone.stdout
    assert standalone.stdout.startswith("OK: the dossier of agreement")
    result = CliRunner().invoke(
        cli, ["verify-dossier", str(path), "--public-key", issuer.public_key]
    )
    assert result.exit_code == 0, result.output
    # The export alone verifies with the standalone verifier too (chain, signature, proof).
    export = tmp_path / "export.jsonl"
    export.write_bytes(files[EXPORT_NAME])
    alone = subprocess.run(
        [sys.executable, "domain/integrity.py", str(export), "--public-key", issuer.public_key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert alone.returncode == 0, alone.stdout


def _forged(
    dossier: Dossier,
    facts: dict[str, Any] | None = None,
    *,
    printed: dict[str, Any] | None = None,
    export: str | None = None,
    html: str | None = None,
) -> tuple[str, dict[str, bytes]]:
    """A dossier re-made as someone with the PDF and a renderer would: other facts
    embedded, other facts printed, another export embedded, or other HTML."""
    embedded = facts if facts is not None else dossier.facts
    shown = printed if printed is not None else embedded
    page = html or render_html(shown, {}, "someone", datetime.now(UTC))
    pdf = render_pdf(page, export or dossier.export, json.dumps(embedded))
    return read_pdf(pdf)


def _changed_date(facts: dict[str, Any]) -> None:
    facts["evidence"][0]["date"] = "2025-01-15"


def _added_artifact(facts: dict[str, Any]) -> None:
    facts["evidence"].append(
        {
            "date": facts["evidence"][0]["date"],
            "kind": "ARTIFACT",
            "title": "Pricing strategy for Europe (REPORT)",
            "detail": None,
            "skills": ["pricing"],
            "by": facts["employeeId"],
        }
    )


def _changed_hours(facts: dict[str, Any]) -> None:
    facts["hoursByMonth"][0]["hours"] = 120.0


EDITS = {
    "a changed date": (_changed_date, "evidence[0].date", "2025-01-15"),
    "an added artifact": (_added_artifact, "evidence[2]", "Pricing strategy for Europe"),
    "changed hours": (_changed_hours, "hoursByMonth[0].hours", "120"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_an_edited_fact_fails_saying_what_differs(container: Container, kind: str) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.manager, aid)
    edit, path, shown = EDITS[kind]
    facts = copy.deepcopy(dossier.facts)
    edit(facts)
    # Edited everywhere: printed and embedded. The export says otherwise.
    outcome = check_dossier(*_forged(dossier, facts), issuer.public_key)
    assert not outcome.ok
    assert any(
        p.startswith(f"embedded facts differ from the export: {path}") for p in outcome.problems
    )
    assert any(shown.replace(" ", "") in p.replace(" ", "") for p in outcome.problems), (
        outcome.problems
    )
    # Edited only where a reader looks: the printed text.
    outcome = check_dossier(*_forged(dossier, printed=facts), issuer.public_key)
    assert not outcome.ok
    assert not any(p.startswith("embedded facts") for p in outcome.problems)
    assert any(p.startswith("printed “") for p in outcome.problems), outcome.problems


def test_a_swapped_embedded_export_fails(container: Container) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.employee, aid)
    other = org.active()  # the same employee's second agreement
    _, second = _issue(container, org.employee, other.id)
    outcome = check_dossier(*_forged(dossier, export=second.export), issuer.public_key)
    assert not outcome.ok
    assert any("agreementId" in p for p in outcome.problems), outcome.problems
    # An export edited inside (one event's text changed) breaks its chain.
    edited = dossier.export.replace("Feature brief: bulk export", "Feature brief: all exports")
    outcome = check_dossier(*_forged(dossier, export=edited), issuer.public_key)
    assert not outcome.ok
    assert any("does not verify" in p for p in outcome.problems), outcome.problems


def test_a_removed_verification_block_fails(container: Container) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.hr, aid)
    html = re.sub(r'<section class="verification".*?</section>', "", dossier.html, flags=re.DOTALL)
    assert html != dossier.html
    outcome = check_dossier(*_forged(dossier, html=html), issuer.public_key)
    assert not outcome.ok
    assert "the printed text lacks the section “Verification”" in outcome.problems


def test_a_pdf_without_an_embedded_export_fails(container: Container) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.employee, aid)
    text, _ = read_pdf(dossier.pdf)
    outcome = check_dossier(text, {}, issuer.public_key)
    assert outcome.problems == [f"the dossier carries no embedded export ({EXPORT_NAME})"]


def _audit_rows(container: Container, aid: UUID) -> list[dict[str, Any]]:
    container.projector.catch_up()
    with container.engines.reader.connect() as conn:
        rm = q.live_read_model(conn)
        where = q.AuditFilter(agreement_id=str(aid), types=("DossierIssued",))
        return q.audit_log(conn, rm, where, 10, None, False)


def test_issuing_a_dossier_is_recorded_under_the_agreement_without_changing_it(
    container: Container,
) -> None:
    org, aid = _story(container)
    before = container.app.load_agreement(aid)
    assert before is not None
    _issue(container, org.employee, aid)
    _issue(container, org.manager, aid)
    after = container.app.load_agreement(aid)
    assert after is not None and after.version == before.version
    rows = _audit_rows(container, aid)
    assert [(r["actor_id"], r["payload"]["issuedTo"]) for r in rows] == [
        (org.employee_id, org.employee_id),
        (org.manager_id, org.manager_id),
    ]
    assert rows[0]["payload"]["agreementVersion"] == before.version
    assert rows[0]["stream_type"] == "DOSSIER"
    # The agreement's timeline holds its own versions only (the issues are the register's).
    with container.engines.reader.connect() as conn:
        timeline = agreement_events(conn, q.live_read_model(conn), str(aid), 0, 50)
    assert [e["version"] for e in timeline] == list(range(1, before.version + 1))


ACCESS = [
    ("employee", True),
    ("manager", True),
    ("hr", True),
    ("other_manager", False),
    ("stranger", False),
    ("auditor", False),
]


@pytest.mark.parametrize(("who", "allowed"), ACCESS)
def test_who_may_be_issued_a_dossier(container: Container, who: str, allowed: bool) -> None:
    org, aid = _story(container)
    req = getattr(org, who)
    head = container.app.recorder.max_notification_id()
    if allowed:
        _, dossier = _issue(container, req, aid)
        assert dossier.pdf.startswith(b"%PDF")
        return
    with pytest.raises(Forbidden):
        _issue(container, req, aid)
    assert container.app.find_dossier_register(aid) is None
    assert container.app.recorder.max_notification_id() == head  # nothing recorded


def test_an_erased_persons_text_stays_erased_and_the_dossier_still_verifies(
    container: Container,
) -> None:
    org, aid = _story(container)
    container.app.execute(org.hr, c.ErasePerson(person_id=org.employee_id, reason="Left; asked"))
    issuer, dossier = _issue(container, org.hr, aid)
    text, files = read_pdf(dossier.pdf)
    assert "Agreement: [erased] (status ACTIVE)" in text
    assert "Feature brief: bulk export" not in text
    assert "Findings landed well" not in text  # the review's notes were about the employee
    assert check_dossier(text, files, issuer.public_key).ok
    assert isinstance(container.app.find_dossier_register(aid), DossierRegister)


def test_an_export_whose_proof_does_not_reach_the_signed_root_fails(container: Container) -> None:
    org, aid = _story(container)
    issuer, dossier = _issue(container, org.employee, aid)
    lines = dossier.export.splitlines()
    proof = json.loads(lines[-1])
    assert proof["kind"] == "proof" and proof["subtrees"]
    proof["subtrees"][0][2] = "00" * 32  # another subtree beside the agreement's events
    forged = "\n".join([*lines[:-1], json.dumps(proof)]) + "\n"
    outcome = check_dossier(*_forged(dossier, export=forged), issuer.public_key)
    assert any("NOT_IN_CHECKPOINT" in p for p in outcome.problems), outcome.problems
    # Without its proof, the export stands for nothing signed.
    unproven = "\n".join(lines[:-1]) + "\n"
    outcome = check_dossier(*_forged(dossier, export=unproven), issuer.public_key)
    assert "the export does not prove every event part of a signed checkpoint" in outcome.problems
    # Without its first events, it is not the agreement's whole history.
    events = [line for line in lines if '"kind": "event"' in line]
    cut = "\n".join(line for line in lines if line != events[0]) + "\n"
    outcome = check_dossier(*_forged(dossier, export=cut), issuer.public_key)
    assert "the export does not hold the agreement's events from its first on" in outcome.problems


def test_the_sketch_prints_before_and_after_and_a_reverted_sketch_leaves_the_dossier(
    container: Container,
) -> None:
    from domain.records import ChangeKind
    from domain.sketch import (
        CraftedBlock,
        Energy,
        Relationship,
        RelationshipKind,
        Sketch,
        TaskBlock,
    )

    org, aid = _story(container)
    sketch = Sketch(
        before=(
            TaskBlock("testing", "Regression testing", 60, Energy.DRAINING),
            TaskBlock("ceremonies", "Team ceremonies", 40, Energy.NEUTRAL),
        ),
        after=(
            CraftedBlock("t2", "Regression testing", 55, Energy.DRAINING, "testing"),
            CraftedBlock("c2", "Team ceremonies", 40, Energy.NEUTRAL, "ceremonies"),
            CraftedBlock("r", "Customer research", 5, Energy.ENERGISING, skill="roadmapping"),
        ),
        relationships=(Relationship("m", RelationshipKind.MENTOR, name="A product lead"),),
        purpose="Quality starts with knowing what customers need.",
    )
    agreement = org.run(org.employee, c.SetSketch(agreement_id=aid, sketch=sketch))
    issuer, dossier = _issue(container, org.manager, aid)
    text, files = read_pdf(dossier.pdf)
    flat = " ".join(text.split())
    assert "Before: Regression testing, 60% of the week, draining" in flat
    assert "After: Regression testing, 55% of the week, draining (resized)" in flat
    assert (
        "After: Customer research, 5% of the week, energising (added), for the skill roadmapping"
        in flat
    )
    assert "Relationship (mentor): A product lead" in flat
    assert "Purpose: Quality starts with knowing what customers need." in flat
    outcome = check_dossier(text, files, issuer.public_key)
    assert outcome.ok, (outcome.problems, text)
    change = next(
        ch.id for ch in agreement.changes.values() if ch.kind is ChangeKind.SKETCH_CHANGED
    )
    org.run(org.manager, c.RevertChange(agreement_id=aid, change_id=change, reason="Redo it"))
    issuer, dossier = _issue(container, org.manager, aid)
    assert dossier.facts["sketch"] is None
    text, files = read_pdf(dossier.pdf)
    assert "Before: Regression testing" not in text
    assert check_dossier(text, files, issuer.public_key).ok


# A person's dossier: every agreement of theirs the receiver may see, each as its own
# part with its own export, facts and verification block.


def _person(container: Container) -> tuple[Org, UUID, UUID, UUID]:
    """The story's agreement, a second one of the same employee (proposed) and a
    teammate's (same manager), the read models caught up."""
    org, first = _story(container)
    second = org.propose().id
    mate = container.app.execute(
        request(org.mate_id, Role.EMPLOYEE),
        c.ProposeAgreement(
            title="Mate's plan",
            career_goal=CareerGoal("Designer", ("prototyping",)),
            adjustments=[draft()],
        ),
    )
    assert mate.agreement is not None
    container.projector.catch_up()
    return org, first, second, mate.agreement.id


def _parts(dossier: PersonDossier) -> list[str]:
    return [str(f["agreementId"]) for f in dossier.parts]


def test_a_persons_dossier_holds_each_of_their_agreements_and_verifies(
    container: Container, tmp_path: Path
) -> None:
    org, first, second, mate = _person(container)
    issuer = issuer_of(container)
    dossier = issuer.issue_person(org.manager, org.employee_id)
    assert _parts(dossier) == [str(first), str(second)]  # oldest first
    text, files = read_pdf(dossier.pdf)
    assert set(files) == {
        name.format(aid) for aid in (first, second) for name in (PART_EXPORT, PART_FACTS)
    }
    flat = normalized(text)  # a heading may wrap
    for aid in (first, second):
        assert normalized(f"Dossier of agreement {aid}") in flat
        assert normalized(f"Agreement id: {aid}") in flat  # each part's verification block
    assert (
        normalized(str(mate)) not in flat
    )  # the teammate's agreement is theirs, not this person's
    assert "Feature brief: bulk export (BRIEF)" in text
    assert json.loads(files[PART_FACTS.format(second)]) == dossier.parts[1]
    outcome = check_dossier(text, files, issuer.public_key)
    assert outcome.ok, outcome.problems
    path = tmp_path / "person.pdf"
    path.write_bytes(dossier.pdf)
    standalone = subprocess.run(
        [
            sys.executable,
            "-m",
            "domain.dossier.check",
            str(path),
            "--public-key",
            issuer.public_key,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode == 0, standalone.stdout
    assert standalone.stdout.startswith(f"OK: the dossier of person {org.employee_id}")
    assert "2 agreements" in standalone.stdout
    # Each agreement's issue is recorded under it, as a single dossier's is.
    for aid in (first, second):
        rows = _audit_rows(container, aid)
        assert [(r["actor_id"], r["payload"]["issuedTo"]) for r in rows] == [
            (org.manager_id, org.manager_id)
        ]
    assert _audit_rows(container, mate) == []


def _forged_person(
    dossier: PersonDossier, edit: dict[str, Any], *, printed_only: bool
) -> tuple[str, dict[str, bytes]]:
    """The person's dossier re-made with the second agreement's facts edited: printed
    only, or printed and embedded."""
    _, files = read_pdf(dossier.pdf)
    parts = [*dossier.parts[:1], edit]
    embedded = dossier.parts if printed_only else parts
    html = render_person_html(dossier.person_id, parts, {}, "someone", datetime.now(UTC))
    pdf = render_person_pdf(
        html,
        [
            (
                str(f["agreementId"]),
                files[PART_EXPORT.format(f["agreementId"])].decode(),
                json.dumps(f),
            )
            for f in embedded
        ],
    )
    return read_pdf(pdf)


def test_an_edit_to_the_second_agreements_part_fails_naming_that_agreement(
    container: Container,
) -> None:
    org, first, second, _ = _person(container)
    issuer = issuer_of(container)
    dossier = issuer.issue_person(org.hr, org.employee_id)
    edited = copy.deepcopy(dossier.parts[1])
    edited["careerGoal"]["targetRole"] = "Chief product officer"
    label = f"agreement {second}: "
    outcome = check_dossier(*_forged_person(dossier, edited, printed_only=True), issuer.public_key)
    assert any(p.startswith(label + "printed “Career goal”") for p in outcome.problems), (
        outcome.problems
    )
    assert not any(p.startswith(f"agreement {first}") for p in outcome.problems)
    outcome = check_dossier(*_forged_person(dossier, edited, printed_only=False), issuer.public_key)
    assert any(
        p.startswith(label + "embedded facts differ from the export: careerGoal.targetRole")
        for p in outcome.problems
    ), outcome.problems
    # The second part's export taken out (its printed part left): named too.
    text, files = read_pdf(dossier.pdf)
    del files[PART_EXPORT.format(second)]
    outcome = check_dossier(text, files, issuer.public_key)
    assert f"the dossier prints agreement {second} but carries no export of it" in outcome.problems


@pytest.mark.parametrize(("who", "allowed"), ACCESS)
def test_who_may_be_issued_a_persons_dossier(container: Container, who: str, allowed: bool) -> None:
    org, first, second, _ = _person(container)
    req = getattr(org, who)
    issuer = issuer_of(container)
    head = container.app.recorder.max_notification_id()
    if allowed:
        assert _parts(issuer.issue_person(req, org.employee_id)) == [str(first), str(second)]
        return
    with pytest.raises(Forbidden):
        issuer.issue_person(req, org.employee_id)
    assert container.app.recorder.max_notification_id() == head  # nothing recorded


def test_only_the_agreements_the_receiver_may_see_are_in_a_persons_dossier(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, first, second, _ = _person(container)
    issuer = issuer_of(container)
    # Were the first agreement not the manager's to see, it is left out, unnamed.
    may_receive = Issuer.may_receive

    def refusing(self: Issuer, actor: Any, aid: UUID) -> str:
        if aid == first and actor.id == org.manager_id:
            raise Forbidden("not this one")
        return may_receive(self, actor, aid)

    monkeypatch.setattr(Issuer, "may_receive", refusing)
    dossier = issuer.issue_person(org.manager, org.employee_id)
    assert _parts(dossier) == [str(second)]
    text, files = read_pdf(dossier.pdf)
    assert normalized(str(first)) not in normalized(text)
    assert not any(str(first) in name for name in files)
    assert check_dossier(text, files, issuer.public_key).ok
    assert _audit_rows(container, first) == []
    # A teammate's dossier is not the employee's to have; an unknown person's is HR's 404.
    with pytest.raises(Forbidden):
        issuer.issue_person(org.employee, org.mate_id)
    with pytest.raises(NotFound):
        issuer.issue_person(org.hr, f"nobody-{org.suffix}")


def test_the_command_line_issues_a_persons_dossier_and_checks_it(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, first, second, _ = _person(container)
    key = container.settings.keys.signing_key
    assert key is not None
    monkeypatch.setenv("CRAFTING_DATABASE_URL", container.settings.database.url)
    monkeypatch.setenv("CRAFTING_SIGNING_KEY", key.get_secret_value())
    runner = CliRunner()
    path = tmp_path / "person.pdf"
    as_manager = ["--as", org.manager_id, "--role", "MANAGER", "--role", "EMPLOYEE"]
    issued = runner.invoke(
        cli, ["dossier", "--person", org.employee_id, "-o", str(path), *as_manager]
    )
    assert issued.exit_code == 0, issued.output
    assert f"{org.employee_id}'s 2 agreements ({first}, {second})" in issued.output
    assert path.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    public = issuer_of(container).public_key
    checked = runner.invoke(cli, ["verify-dossier", str(path), "--public-key", public])
    assert checked.exit_code == 0, checked.output
    assert "2 agreements" in checked.output
    # One of the two, not both nor neither; a teammate's is not a stranger's to have.
    both = runner.invoke(cli, ["dossier", str(first), "--person", org.employee_id, "-o", "x"])
    assert both.exit_code == 2 and "one of them" in both.output
    assert runner.invoke(cli, ["dossier", "-o", "x"]).exit_code == 2
    bad = runner.invoke(cli, ["dossier", "--person", "not a person id!", "-o", "x"])
    assert bad.exit_code == 2 and "--person must be a person id" in bad.output
    refused = runner.invoke(
        cli,
        [
            "dossier",
            "--person",
            org.mate_id,
            "-o",
            str(tmp_path / "no.pdf"),
            "--as",
            org.stranger_id,
            "--role",
            "EMPLOYEE",
        ],
    )
    assert refused.exit_code == 1 and not (tmp_path / "no.pdf").exists()
