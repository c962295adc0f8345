"""The dossier as HTML (with a print stylesheet) and as a PDF rendered by WeasyPrint,
carrying the verifiable export and the facts as embedded files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.dossier.check import EXPORT_NAME, FACTS_NAME
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
        facts=facts,
        sections=printed_sections(facts),
        end_heading=END,
        names=names,
        issued_to=issued_to,
        issued_to_name=names.get(issued_to, issued_to),
        issued_at=issued_at.strftime("%Y-%m-%d %H:%M UTC"),
        bars=_bars(facts),
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
    from weasyprint import HTML, Attachment

    attachments = [
        Attachment(
            string=export.encode(),
            name=EXPORT_NAME,
            description="The agreement's verifiable export (events, checkpoint, proof)",
        ),
        Attachment(
            string=facts_json.encode(),
            name=FACTS_NAME,
            description="The facts this dossier prints, as derived from the export",
        ),
    ]
    pdf: bytes = HTML(string=html).write_pdf(attachments=attachments)
    return pdf
