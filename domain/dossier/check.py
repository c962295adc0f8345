"""Check a promotion dossier offline: its embedded export verifies (hash chain from the
agreement's first event, signed checkpoint, inclusion proof), its embedded facts are
exactly what that export gives, and its printed text says exactly those facts.

A person's dossier is a sequence of such agreement sections: each printed under its own
heading ("Dossier of agreement ID"), each with its own embedded export and facts
(`agreement-export-ID.jsonl`, `dossier-facts-ID.json`), each checked as above.

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
# A person's dossier: one part per agreement, under this heading, with these files.
PART = "Dossier of agreement {}"
PART_EXPORT = "agreement-export-{}.jsonl"
PART_FACTS = "dossier-facts-{}.json"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PART_HEADING = re.compile(r"Dossierofagreement(" + _UUID + ")")
_PART_FILE = re.compile(r"agreement-export-(" + _UUID + r")\.jsonl")


@dataclass
class Outcome:
    """What the check found: nothing wrong when `problems` is empty."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)  # a person's: each agreement's

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
    if EXPORT_NAME not in files and any(_PART_FILE.fullmatch(name) for name in files):
        _check_person(outcome, text, files, public_key_b64)
        return outcome
    if EXPORT_NAME not in files:
        outcome.problems.append(f"the dossier carries no embedded export ({EXPORT_NAME})")
        return outcome
    derived = _derive(outcome, files[EXPORT_NAME], public_key_b64, "")
    if derived is None:
        return outcome
    outcome.facts = derived
    _compare_facts(outcome, files.get(FACTS_NAME), derived, FACTS_NAME, "")
    _compare_text(outcome, text, derived)
    return outcome


def _derive(outcome: Outcome, export: bytes, public_key_b64: str, label: str) -> Any:
    """The facts an embedded export gives (None if it cannot be read), each problem of
    the export noted."""
    try:
        lines = export.decode("utf-8").splitlines()
        verified = verify_export(lines, public_key_b64)
        derived = facts_from_export(lines, public_key_b64)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        outcome.problems.append(f"{label}the embedded export cannot be read: {error}")
        return None
    if verified.first_break is not None:
        outcome.problems.append(
            f"{label}the embedded export does not verify: " + verified.first_break.describe()
        )
    outcome.problems.extend(label + p for p in coverage_problems(lines))
    return derived


def _check_person(outcome: Outcome, text: str, files: dict[str, bytes], key: str) -> None:
    """A person's dossier: every printed agreement part has its export, every export its
    printed part, and each part is checked as a dossier of its own."""
    exports = {m.group(1) for name in files if (m := _PART_FILE.fullmatch(name))}
    printed = normalized(text)
    parts = [(m.start(), m.end(), m.group(1)) for m in _PART_HEADING.finditer(printed)]
    shown = [aid for _, _, aid in parts]
    for aid in sorted({a for a in shown if shown.count(a) > 1}):
        outcome.problems.append(f"the dossier prints agreement {aid} more than once")
    for aid in sorted(set(shown) - exports):
        outcome.problems.append(f"the dossier prints agreement {aid} but carries no export of it")
    for aid in sorted(exports - set(shown)):
        outcome.problems.append(
            f"the dossier carries agreement {aid}'s export but prints none of it"
        )
    end = printed.find(normalized(END))
    for i, (_, after, aid) in enumerate(parts):
        if aid not in exports:
            continue
        label = f"agreement {aid}: "
        derived = _derive(outcome, files[PART_EXPORT.format(aid)], key, label)
        if derived is None:
            continue
        if derived["agreementId"] != aid:
            outcome.problems.append(f"{label}its export is agreement {derived['agreementId']}'s")
        outcome.parts.append(derived)
        name = PART_FACTS.format(aid)
        _compare_facts(outcome, files.get(name), derived, name, label)
        stop = parts[i + 1][0] if i + 1 < len(parts) else end
        if stop < after:
            outcome.problems.append(f"{label}the end of the printed facts is missing")
            continue
        _compare_body(outcome, printed[after:stop], printed_sections(derived), label)
    employees = sorted({str(facts["employeeId"]) for facts in outcome.parts})
    if len(employees) > 1:
        outcome.problems.append("the agreements are of different people: " + ", ".join(employees))


def _compare_facts(
    outcome: Outcome, embedded: bytes | None, derived: dict[str, Any], name: str, label: str
) -> None:
    if embedded is None:
        outcome.problems.append(f"{label}the dossier carries no embedded facts ({name})")
        return
    try:
        facts = json.loads(embedded.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        outcome.problems.append(f"{label}the embedded facts are not JSON")
        return
    outcome.problems.extend(
        f"{label}embedded facts differ from the export: {d}"
        for d in fact_differences(facts, derived)
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
    _compare_body(outcome, printed[start:end], sections, "")


def _compare_body(
    outcome: Outcome, body: str, sections: list[tuple[str, list[str]]], label: str
) -> None:
    """The printed facts (normalized), which must be exactly the sections, in order."""
    expected = "".join(normalized(h) + "".join(map(normalized, ls)) for h, ls in sections)
    if body == expected:
        return
    if not body.startswith(normalized(sections[0][0])):
        outcome.problems.append(f"{label}the printed text has more before “{sections[0][0]}”")
    for i, (heading, section_lines) in enumerate(sections):
        at = body.find(normalized(heading))
        if at < 0:
            outcome.problems.append(f"{label}the printed text lacks the section “{heading}”")
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
                outcome.problems.append(
                    f"{label}printed “{heading}” lacks what the export says: {line}"
                )
        if rest:
            outcome.problems.append(
                f"{label}printed “{heading}” says what the export does not (spaces removed): "
                f"{rest[:200]}"
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
    if outcome.ok and outcome.parts:
        each = "; ".join(
            f"agreement {f['agreementId']}: {f['verification']['lastVersion']} events, checkpoint "
            f"at position {f['verification']['checkpoint']['position']}"
            for f in outcome.parts
        )
        return (
            f"OK: the dossier of person {outcome.parts[0]['employeeId']} prints exactly what "
            f"the embedded exports of its {len(outcome.parts)} agreements say; each verifies "
            f"and is covered by its signed checkpoint ({each})."
        )
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
