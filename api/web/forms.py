"""What a submitted form holds, read at the edge: the fields every write carries (CSRF
token, idempotency key made when the page was rendered, the version the page showed)
and the field values, parsed with errors that name their field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from starlette.datastructures import FormData

from api.http.numbers import INT32_MAX, version_number, whole_number

MAX_FIELD = 5000  # longer than any rule allows: the domain gives the precise message


class FieldError(ValueError):
    """A value the form could not read; shown next to its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Submitted:
    """A form as sent: its values (text only; files are not accepted) and lists."""

    values: dict[str, str]
    lists: dict[str, list[str]]

    @classmethod
    def of(cls, form: FormData) -> Submitted:
        lists: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                lists.setdefault(key, []).append(value[:MAX_FIELD])
        return cls({k: v[0] for k, v in lists.items()}, lists)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def text(self, name: str) -> str | None:
        """A text field; blank is None (the domain says whether it is required)."""
        value = self.get(name).strip()
        return value or None

    def required(self, name: str, label: str) -> str:
        value = self.text(name)
        if value is None:
            raise FieldError(name, f"{label} is required.")
        return value

    def number(self, name: str, label: str) -> float:
        raw = self.get(name).strip()
        try:
            value = float(raw)
        except ValueError:
            raise FieldError(name, f"{label} must be a number.") from None
        if not math.isfinite(value):
            raise FieldError(name, f"{label} must be a number.")
        return value

    def whole(self, name: str, label: str) -> int:
        value = whole_number(self.get(name).strip(), most=INT32_MAX)
        if value is None:
            raise FieldError(name, f"{label} must be a whole number.")
        return value

    def day(self, name: str, label: str) -> date | None:
        """An ISO date (what <input type=date> sends); blank is None."""
        raw = self.get(name).strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise FieldError(name, f"{label} must be a date (YYYY-MM-DD).") from None

    def words(self, name: str) -> list[str]:
        """A comma- or line-separated list (skills, protected responsibilities)."""
        raw = self.get(name).replace("\n", ",")
        return [w.strip() for w in raw.split(",") if w.strip()]

    def version(self) -> int | None:
        return version_number(self.get("expected_version"))

    def idempotency_key(self) -> str | None:
        return self.text("idempotency_key")


def uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
