"""The dossier as HTML (with a print stylesheet) and as a PDF rendered by WeasyPrint,
carrying the verifiable export and the facts as embedded files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.dossier.check import EXPORT_NAME, FACTS_NAME, PART, PART_EXPORT, PART_FACTS
from domain.dossier.facts import END, printed_sections

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(
    facts: dict[str, Any], names: dict[str, str], issued_to: str, issued_at: datetime
) -> str:
    """The dossier's page: the facts exactly as `printed_sections` words them."""
    return _templates.get_template("dossier.html").render(
        title=f"Promotion dossier: {facts['title']}",
        description=f"Promotion dossier of agreement {facts['agreementId']}",
        parts=[(None, printed_sections(facts), _bars(facts))],
        end_heading=END,
        names=names,
        issued_to=issued_to,
        issued_to_name=names.get(issued_to, issued_to),
        issued_at=issued_at.strftime("%Y-%m-%d %H:%M UTC"),
        bars=_bars(facts),
    )


def render_person_html(
    person_id: str,
    parts: list[dict[str, Any]],
    names: dict[str, str],
    issued_to: str,
    issued_at: datetime,
) -> str:
    """A person's dossier: each agreement's facts under its own heading, as one
    agreement's dossier prints them (verification block included)."""
    person = names.get(person_id, person_id)
    return _templates.get_template("dossier.html").render(
        title=f"Promotion dossier: {person}",
        description=f"Promotion dossier of person {person_id}, {len(parts)} agreements",
        parts=[(PART.format(f["agreementId"]), printed_sections(f), _bars(f)) for f in parts],
        end_heading=END,
        names=names,
        issued_to=issued_to,
        issued_to_name=names.get(issued_to, issued_to),
        issued_at=issued_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


def _bars(facts: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """A bar beside a printed line (no text of its own, so the printed facts stay
    exactly the lines): hours per month against the busiest month, and each block of
    the sketch by its share of the week, coloured by its energy."""
    lines = dict.fromkeys(line for _, ls in printed_sections(facts) for line in ls)
    hours = [line for line in lines if line[:4].isdigit() and line.endswith(" hours")]
    found: dict[str, tuple[int, str]] = {}
    most = max((h["hours"] for h in facts["hoursByMonth"]), default=0) or 1
    for line, h in zip(hours, facts["hoursByMonth"], strict=False):
        found[line] = (round(100 * h["hours"] / most), "hours")
    blocks = [line for line in lines if line.startswith(("Before: ", "After: "))]
    sketch = facts.get("sketch") or {"before": [], "after": []}
    for line, block in zip(blocks, [*sketch["before"], *sketch["after"]], strict=False):
        found[line] = (round(block["share"]), f"energy-{block['energy'].lower()}")
    return found


def render_pdf(html: str, export: str, facts_json: str) -> bytes:
    """The PDF (fonts from the system: Debian's DejaVu), the export and facts embedded."""
    return _pdf(html, _files(EXPORT_NAME, FACTS_NAME, export, facts_json))


def render_person_pdf(html: str, parts: list[tuple[str, str, str]]) -> bytes:
    """A person's dossier as a PDF: each agreement's (id, export, facts JSON) embedded."""
    files = []
    for aid, export, facts_json in parts:
        files += _files(PART_EXPORT.format(aid), PART_FACTS.format(aid), export, facts_json)
    return _pdf(html, files)


def _files(
    export_name: str, facts_name: str, export: str, facts_json: str
) -> list[tuple[str, bytes, str]]:
    return [
        (
            export_name,
            export.encode(),
            "The agreement's verifiable export (events, checkpoint, proof)",
        ),
        (facts_name, facts_json.encode(), "The facts printed, as derived from the export"),
    ]


def _pdf(html: str, files: list[tuple[str, bytes, str]]) -> bytes:
    from weasyprint import HTML, Attachment

    attachments = [Attachment(string=data, name=name, description=d) for name, data, d in files]
    pdf: bytes = HTML(string=html).write_pdf(attachments=attachments)
    return pdf
