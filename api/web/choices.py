"""The options of a select field, made in Python: the agreement page's receiver list
names every report of the manager (hundreds of people), and a template loop spent
more on them than on the rest of the page (an attribute sort, a getattr and two
escapes per option, each through the template's runtime)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

NO_RECEIVER = ("", "Choose a person")
"""The receiver list's first option (nobody chosen yet)."""


@dataclass(frozen=True)
class Options:
    """A select's options and their tags with the first option chosen (what a form
    shows until someone chooses): made once, kept by the key ring while the names in
    it may be shown (`domain.sealing.Kept`)."""

    options: tuple[tuple[Any, Any], ...]
    first_chosen: Markup

    @classmethod
    def of(cls, options: Iterable[tuple[Any, Any]]) -> Options:
        made = tuple(options)
        return cls(made, _tags(made, made[0][0] if made else None))

    def tags(self, chosen: Any) -> Markup:
        if self.options and chosen == self.options[0][0]:
            return self.first_chosen
        return _tags(self.options, chosen)


def receiver_options(people: Iterable[tuple[str, str]]) -> Options:
    """The receiver list's options from the opened (person id, display name) rows, as
    the template made them: "Choose a person", then each person by name."""
    return Options.of(
        [NO_RECEIVER, *people_choices({"person_id": p, "display_name": n} for p, n in people)]
    )


def receivers_of(receivers: Options | Iterable[Mapping[str, Any]]) -> Options:
    """The receiver list's options: as kept, or from the rows (person_id, display_name)."""
    if isinstance(receivers, Options):
        return receivers
    return receiver_options((p["person_id"], p["display_name"]) for p in receivers)


def people_choices(people: Iterable[Mapping[str, Any]]) -> list[tuple[Any, Any]]:
    """(person id, display name) of each person, by name ignoring case, as Jinja's
    `sort(attribute="display_name")` orders them (stable: equal names keep their order)."""
    ordered = sorted(people, key=lambda p: _folded(p["display_name"]))
    return [(p["person_id"], p["display_name"]) for p in ordered]


def option_tags(options: Options | Iterable[tuple[Any, Any]], chosen: Any) -> Markup:
    """`<option value="…"[ selected]>…</option>` for each (value, text), escaped, as
    the template wrote them one by one."""
    if isinstance(options, Options):
        return options.tags(chosen)
    return _tags(options, chosen)


def _tags(options: Iterable[tuple[Any, Any]], chosen: Any) -> Markup:
    # Safe: each value and text is escaped before it is joined (Markup.format would do
    # the same at five times the cost, per option).
    return Markup(  # noqa: S704
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
            f"{escape(text)}</option>"
            for value, text in options
        )
    )


def _folded(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
