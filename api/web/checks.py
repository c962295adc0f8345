"""A submitted form read field by field with every mistake kept (not only the first),
and the domain's messages put in the page's words: the label a person sees ("Adjustment
3: hours per week") instead of the field path (`adjustments[2].hoursPerWeek`), statuses
in words instead of enum names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import TypeVar

from api.web.forms import FieldError, Submitted
from domain.errors import DomainError
from domain.values import AgreementStatus

T = TypeVar("T")
Labels = Callable[[str], str | None]
"""The label a form shows for a field (None: the form has no such field)."""

_ROW = re.compile(r"^adjustments\[(\d{1,2})\]\.(\w+)")
_ITEM = re.compile(r"\[\d+\]$")  # `careerGoal.skills[3]`: an item of the skills field
_STATUS = re.compile(r"\b(" + "|".join(s.value for s in AgreementStatus) + r")\b")
_CHOICES = re.compile(r" must be one of [A-Z_, ]+\.$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def words_of(name: str) -> str:
    """`hoursPerWeek` → "hours per week"."""
    return _CAMEL.sub(" ", name).lower()


def status_words(status: str) -> str:
    """`CHANGES_REQUESTED` → "changes requested"."""
    return status.replace("_", " ").lower()


def adjustment_label(field: str, row_of: list[int] | None = None) -> str | None:
    """ "Adjustment 3: hours per week" for `adjustments[2].hoursPerWeek` (the number a
    person sees on the form: `row_of` maps the domain's index to the form's row)."""
    found = _ROW.match(field)
    if found is None:
        return None
    index = int(found.group(1))
    if row_of is not None and index < len(row_of):
        index = row_of[index]
    return f"Adjustment {index + 1}: {words_of(found.group(2))}"


def worded(field: str | None, message: str, label: str | None) -> str:
    """The domain's message for `field`, said with the page's label for it."""
    text = _CHOICES.sub(" must be one of the choices offered.", message)
    if field and label:
        subject = text.split(" ", 1)[0]
        bare = _ITEM.sub("", subject)
        tail = field.rsplit(".", 1)[-1]
        if subject in (field, tail) or bare in (field, _ITEM.sub("", field)):
            rest = text[len(subject) :]
            text = label + rest
    return _STATUS.sub(lambda m: status_words(m.group(1)), text)


class FormErrors(Exception):
    """Every mistake of one submitted form, in the page's words: field → message
    ("form" for one that belongs to no field)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)

    @classmethod
    def of(
        cls, error: DomainError | FieldError, labels: Labels, where: Callable[[str], str]
    ) -> FormErrors:
        """One error, worded; `where` names the form field a domain field is shown at."""
        field = error.field
        if field is None:
            return cls({"form": worded(None, error.message, None)})
        shown = where(field)
        return cls({shown: worded(field, error.message, labels(shown) or labels(field))})


class Checked:
    """A form read field by field: each reading that fails is kept, worded, and the
    reading goes on, so a form with three mistakes is answered with three errors."""

    def __init__(self, form: Submitted, labels: Labels) -> None:
        self.form = form
        self.labels = labels
        self.errors: dict[str, str] = {}

    def label(self, field: str) -> str:
        return self.labels(field) or words_of(field).capitalize()

    def check(self, field: str, read: Callable[[], T]) -> T | None:
        """`read()`, or None with its error kept at `field` (an item's error too, e.g.
        one skill of a list); a field keeps its first error."""
        try:
            return read()
        except (FieldError, DomainError) as error:
            self.errors.setdefault(field, worded(error.field, error.message, self.label(field)))
            return None

    def number(self, field: str) -> float | None:
        return self.check(field, lambda: self.form.number(field, self.label(field)))

    def whole(self, field: str) -> int | None:
        return self.check(field, lambda: self.form.whole(field, self.label(field)))

    def day(self, field: str) -> date | None:
        return self.check(field, lambda: self.form.day(field, self.label(field)))

    def done(self) -> None:
        """Raise every kept error at once (FormErrors), if there is any."""
        if self.errors:
            raise FormErrors(self.errors)
