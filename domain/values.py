"""Value objects of the agreement: enums, immutable records and their validation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar, TypeVar

from domain.errors import InvalidInput, ReasonRequired
from domain.sealing import ERASED

MAX_HOURS_PER_WEEK = 80.0
HOURS_STEP = 0.25  # quarter hours keep float sums exact, so limit checks never drift
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
# Never stored: C0 controls (but tab and line breaks in multi-line texts), DEL and C1;
# bidirectional overrides and isolates (they make "a\u202egnp.exe" read as "aexe.png");
# lone surrogates (not text at all) and Unicode noncharacters.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_NEVER = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff" + _NONCHARACTERS
# Single-line texts (titles, names, labels) take no C0 control at all; multi-line ones
# (descriptions, notes, reasons) keep tab and line breaks.
_FORBIDDEN_CHARACTERS = re.compile(f"[\x00-\x1f{_NEVER}]")
_NONCHARACTER = re.compile(f"[{_NONCHARACTERS}]")
_FORBIDDEN_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_NEVER}]")
# Person ids (HRIS ids, e-mail addresses): visible ASCII only, so no two ids look alike.
_PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}")
PERSON_ID_RULE = (
    "1 to 128 characters: ASCII letters, digits and . _ : @ + - (starting with a letter or digit)"
)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
_URL = re.compile(r"https?://\S{1,2000}")


class Role(StrEnum):
    EMPLOYEE = "EMPLOYEE"
    MANAGER = "MANAGER"
    HR = "HR"
    AUDITOR = "AUDITOR"
    INTEGRATION = "INTEGRATION"


class AgreementStatus(StrEnum):
    PROPOSED = "PROPOSED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {AgreementStatus.COMPLETED, AgreementStatus.REJECTED, AgreementStatus.WITHDRAWN}
)


class AdjustmentKind(StrEnum):
    TASK = "TASK"
    RELATIONAL = "RELATIONAL"
    COGNITIVE = "COGNITIVE"
    RESOURCE = "RESOURCE"


class ChangeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVERTED = "REVERTED"


class ReviewOutcome(StrEnum):
    ON_TRACK = "ON_TRACK"
    NEEDS_ADJUSTMENT = "NEEDS_ADJUSTMENT"
    AT_RISK = "AT_RISK"
    READY_TO_COMPLETE = "READY_TO_COMPLETE"


class ArtifactKind(StrEnum):
    BRIEF = "BRIEF"
    REPORT = "REPORT"
    DEMO = "DEMO"
    PRESENTATION = "PRESENTATION"
    DOCUMENTATION = "DOCUMENTATION"
    CODE = "CODE"
    OTHER = "OTHER"


E = TypeVar("E", bound=StrEnum)


def choice(enum: type[E], value: str, field: str) -> E:
    """An enum member from its name, or a clear error listing the allowed ones."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field} must be one of {allowed}.", field) from None


def text(
    value: str, field: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Strip, check and normalise (NFC) a free-text input: control characters (line
    breaks and tabs only where `multiline`), direction overrides and isolates, lone
    surrogates and noncharacters are refused, never stored."""
    if (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_CHARACTERS).search(value):
        breaks = "" if multiline else "line breaks, "
        raise InvalidInput(
            f"{field} must not contain control characters, {breaks}direction overrides "
            "or invalid Unicode.",
            field,
        )
    cleaned = unicodedata.normalize("NFC", value).strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} must not be empty.", field)
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters.", field)
    return cleaned


def optional_text(
    value: str | None, field: str, *, max_length: int, multiline: bool = False
) -> str | None:
    """Like text(), but blank means absent."""
    if value is None or not value.strip():
        return None
    return text(value, field, max_length=max_length, multiline=multiline)


def reason(value: str | None, field: str = "reason") -> str:
    """A reason is required by rule 7 for the commands that undo or refuse."""
    if value is None or not value.strip():
        raise ReasonRequired("A reason is required for this action.", field)
    return text(value, field, max_length=2000, multiline=True)


def hours(value: float, field: str, *, maximum: float = MAX_HOURS_PER_WEEK) -> float:
    """Hours per week: not negative, not absurd, in quarter hours."""
    if value != value or value < 0:  # NaN compares unequal to itself
        raise InvalidInput(f"{field} must be zero or more.", field)
    if value > maximum:
        raise InvalidInput(f"{field} must be at most {maximum:g}.", field)
    if (value / HOURS_STEP) != int(value / HOURS_STEP):
        raise InvalidInput(f"{field} must be in steps of a quarter hour.", field)
    return float(value)


def day(value: date, field: str) -> date:
    """A calendar date inside a sane range."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise InvalidInput(f"{field} must be between {MIN_DATE} and {MAX_DATE}.", field)
    return value


def optional_day(value: date | None, field: str) -> date | None:
    return None if value is None else day(value, field)


def date_range(starts: date | None, ends: date | None, field: str) -> None:
    if starts is not None and ends is not None and ends < starts:
        raise InvalidInput(f"{field} must not be before the start date.", field)


def is_person_id(value: object) -> bool:
    """Whether `value` is exactly a person id (no trimming): what every front door
    checks of the ids callers name themselves by (tokens, sign-in, integrations)."""
    return isinstance(value, str) and _PERSON_ID.fullmatch(value) is not None


def person_id(value: str, field: str) -> str:
    """HRIS ids are opaque strings of letters, digits and `. _ : @ + -` (so e-mail
    addresses qualify), at most 128 characters: nothing invisible or look-alike."""
    cleaned = value.strip()
    if not is_person_id(cleaned):
        raise InvalidInput(f"{field} must be {PERSON_ID_RULE}.", field)
    return cleaned


def email(value: str, field: str = "email") -> str:
    cleaned = text(value, field, max_length=320)
    if not _EMAIL.fullmatch(cleaned):
        raise InvalidInput(f"{field} is not a valid email address.", field)
    return cleaned.lower()


def email_key(value: object) -> str | None:
    """The form two addresses are compared in when one names a person (sign-in by
    e-mail): ASCII only, lower-cased as ASCII; None for anything else. Never
    str.lower() or NFKC on Unicode, which make look-alikes equal ("\u212a" KELVIN
    SIGN lowers to "k")."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip()
    if not cleaned.isascii() or not _EMAIL.fullmatch(cleaned):
        return None
    if any(not character.isprintable() for character in cleaned):
        return None
    return cleaned.lower()


def url(value: str | None, field: str = "url") -> str | None:
    """An http(s) link: nothing invisible in it at all (no whitespace, no control or
    format character, no noncharacter), so what is shown is what is followed."""
    if value is None or not value.strip(" "):
        return None
    cleaned = value.strip(" ")  # only the spaces a paste brings; anything else is refused
    if any(_invisible(character) for character in cleaned):
        raise InvalidInput(
            f"{field} must not contain spaces, control characters or invisible Unicode.", field
        )
    if not _URL.fullmatch(cleaned):
        raise InvalidInput(f"{field} must be an http or https URL.", field)
    return cleaned


def _invisible(character: str) -> bool:
    """Whitespace, or a control, format, surrogate, private-use or unassigned code
    point (Unicode category C*), or a noncharacter."""
    return (
        character.isspace()
        or unicodedata.category(character).startswith("C")
        or _NONCHARACTER.fullmatch(character) is not None
    )


def skills(values: list[str] | tuple[str, ...], field: str = "skills") -> tuple[str, ...]:
    """Skills are short labels; duplicates (ignoring case) collapse to the first."""
    if len(values) > 50:
        raise InvalidInput(f"{field} may list at most 50 skills.", field)
    seen: dict[str, str] = {}
    for index, value in enumerate(values):
        label = text(value, f"{field}[{index}]", max_length=100)
        seen.setdefault(label.casefold(), label)
    return tuple(seen.values())


@dataclass(frozen=True)
class CareerGoal:
    PERSONAL: ClassVar[tuple[str, ...]] = ("target_role", "skills")

    target_role: str
    skills: tuple[str, ...]
    target_date: date | None = None

    def validated(self) -> CareerGoal:
        return CareerGoal(
            target_role=text(self.target_role, "careerGoal.targetRole", max_length=200),
            skills=skills(self.skills, "careerGoal.skills"),
            target_date=optional_day(self.target_date, "careerGoal.targetDate"),
        )


@dataclass(frozen=True)
class AdjustmentDraft:
    """An adjustment as proposed, before it has an id or a change."""

    kind: AdjustmentKind
    description: str
    hours_per_week: float
    starts_on: date | None = None
    ends_on: date | None = None

    def validated(self, field: str = "adjustment") -> AdjustmentDraft:
        date_range(self.starts_on, self.ends_on, f"{field}.endsOn")
        return AdjustmentDraft(
            kind=choice(AdjustmentKind, self.kind, f"{field}.kind"),
            description=text(
                self.description, f"{field}.description", max_length=2000, multiline=True
            ),
            hours_per_week=hours(self.hours_per_week, f"{field}.hoursPerWeek", maximum=40),
            starts_on=optional_day(self.starts_on, f"{field}.startsOn"),
            ends_on=optional_day(self.ends_on, f"{field}.endsOn"),
        )


@dataclass(frozen=True)
class Guardrails:
    PERSONAL: ClassVar[tuple[str, ...]] = ("protected_responsibilities",)

    max_development_hours_per_week: float
    protected_responsibilities: tuple[str, ...]
    review_every_days: int
    ends_on: date | None = None

    def validated(self) -> Guardrails:
        if not 1 <= self.review_every_days <= 365:
            raise InvalidInput(
                "reviewEveryDays must be between 1 and 365.", "guardrails.reviewEveryDays"
            )
        return Guardrails(
            max_development_hours_per_week=hours(
                self.max_development_hours_per_week,
                "guardrails.maxDevelopmentHoursPerWeek",
                maximum=40,
            ),
            protected_responsibilities=skills(
                self.protected_responsibilities, "guardrails.protectedResponsibilities"
            ),
            review_every_days=self.review_every_days,
            ends_on=optional_day(self.ends_on, "guardrails.endsOn"),
        )

    def protects(self, task: str) -> bool:
        if task == ERASED:  # erased text compares with nothing: every one reads the same
            return False
        return task.casefold() in {t.casefold() for t in self.protected_responsibilities}
