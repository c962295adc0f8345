"""Check a promotion dossier offline: its embedded export verifies (hash chain from the
agreement's first event, signed checkpoint, inclusion proof), its embedded facts are
exactly what that export gives, and its printed text says exactly those facts.

    python -m domain.dossier.check dossier.pdf --public-key BASE64_KEY

Needs the standard library, `cryptography` (signatures) and `pypdf` (reading the PDF).

How printed facts are compared: the text is read back from the PDF, normalized (Unicode
NFKC, so ligatures read as letters; every whitespace removed, so line and page breaks do
not matter; page numbers removed), and the part from the first section heading to the end
marker must equal the sections the export gives, heading and lines in order. A changed,
added or removed fact anywhere in it is a difference, named by section and line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from domain.dossier.facts import END, coverage_problems, facts_from_export, printed_sections
from domain.dossier.facts import differences as fact_differences
from domain.integrity import valid_public_key, verify_export

EXPORT_NAME = "agreement-export.jsonl"
FACTS_NAME = "dossier-facts.json"
# The footer "Page 2 of 3." on every page, wherever the text of a page puts it: its full
# stop ends it (a line right after it may start with digits: a date).
PAGE_NUMBER = re.compile(r"Page\d+of\d+\.")


@dataclass
class Outcome:
    """What the check found: nothing wrong when `problems` is empty."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def normalized(text: str) -> str:
    """Text as compared: NFKC, no whitespace (nor soft hyphens), no page numbers."""
    flat = "".join(unicodedata.normalize("NFKC", text).replace("\u00ad", "").split())
    return PAGE_NUMBER.sub("", flat)


def read_pdf(data: bytes) -> tuple[str, dict[str, bytes]]:
    """The PDF's text, page after page, and its embedded files by name."""
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        files = {name: contents[0] for name, contents in reader.attachments.items() if contents}
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a readable PDF ({type(error).__name__})") from None
    return text, files


def check_dossier(text: str, files: dict[str, bytes], public_key_b64: str) -> Outcome:
    """Every check of one dossier's text and embedded files against the public key."""
    outcome = Outcome()
    if EXPORT_NAME not in files:
        outcome.problems.append(f"the dossier carries no embedded export ({EXPORT_NAME})")
        return outcome
    try:
        lines = files[EXPORT_NAME].decode("utf-8").splitlines()
        verified = verify_export(lines, public_key_b64)
        derived = facts_from_export(lines, public_key_b64)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        outcome.problems.append(f"the embedded export cannot be read: {error}")
        return outcome
    outcome.facts = derived
    if verified.first_break is not None:
        outcome.problems.append(
            "the embedded export does not verify: " + verified.first_break.describe()
        )
    outcome.problems.extend(coverage_problems(lines))
    _compare_facts(outcome, files.get(FACTS_NAME), derived)
    _compare_text(outcome, text, derived)
    return outcome


def _compare_facts(outcome: Outcome, embedded: bytes | None, derived: dict[str, Any]) -> None:
    if embedded is None:
        outcome.problems.append(f"the dossier carries no embedded facts ({FACTS_NAME})")
        return
    try:
        facts = json.loads(embedded.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        outcome.problems.append("the embedded facts are not JSON")
        return
    outcome.problems.extend(
        f"embedded facts differ from the export: {d}" for d in fact_differences(facts, derived)
    )


def _compare_text(outcome: Outcome, text: str, derived: dict[str, Any]) -> None:
    printed = normalized(text)
    sections = printed_sections(derived)
    start = printed.find(normalized(sections[0][0]))
    end = printed.find(normalized(END), max(start, 0))
    if start < 0 or end < 0:
        outcome.problems.append(
            "the printed facts are not where a dossier has them (a section heading or the "
            "end of the facts is missing)"
        )
        return
    body = printed[start:end]
    expected = "".join(normalized(h) + "".join(map(normalized, ls)) for h, ls in sections)
    if body == expected:
        return
    for i, (heading, section_lines) in enumerate(sections):
        at = body.find(normalized(heading))
        if at < 0:
            outcome.problems.append(f"the printed text lacks the section “{heading}”")
            continue
        following = [body.find(normalized(h), at + 1) for h, _ in sections[i + 1 :]]
        stop = min([f for f in following if f >= 0], default=len(body))
        segment = body[at + len(normalized(heading)) : stop]
        wanted = "".join(map(normalized, section_lines))
        if segment == wanted:
            continue
        rest = segment
        for line in section_lines:
            if normalized(line) in rest:
                rest = rest.replace(normalized(line), "", 1)
            else:
                outcome.problems.append(f"printed “{heading}” lacks what the export says: {line}")
        if rest:
            outcome.problems.append(
                f"printed “{heading}” says what the export does not (spaces removed): {rest[:200]}"
            )


def check_file(path: str, public_key_b64: str) -> Outcome:
    """Read and check a dossier file."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text, files = read_pdf(data)
    except ValueError as error:
        return Outcome([f"{path} is {error}"])
    return check_dossier(text, files, public_key_b64)


def report(outcome: Outcome) -> str:
    """What to print: OK with what was checked, or every problem found."""
    if outcome.ok and outcome.facts is not None:
        v = outcome.facts["verification"]
        return (
            f"OK: the dossier of agreement {v['agreementId']} prints exactly what its "
            f"embedded export says; the export's {v['lastVersion']} events verify and are "
            f"covered by the checkpoint signed at {v['checkpoint']['recordedAt']} "
            f"(position {v['checkpoint']['position']})."
        )
    return "\n".join(f"DIFFERS: {p}" for p in outcome.problems)


def main(argv: list[str] | None = None) -> int:
    """Standalone: check a dossier against the service's public key."""
    parser = argparse.ArgumentParser(description="Check a promotion dossier independently.")
    parser.add_argument("dossier", help="the PDF written by `crafting dossier` or the web app")
    parser.add_argument("--public-key", required=True, help="base64 Ed25519 public key")
    args = parser.parse_args(argv)
    if not valid_public_key(args.public_key):
        print("--public-key is not a base64 Ed25519 public key (`crafting keys` prints it).")
        return 2
    outcome = check_file(args.dossier, args.public_key)
    print(report(outcome))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
