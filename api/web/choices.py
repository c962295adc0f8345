"""The options of a select field, made in Python: the agreement page's receiver list
names every report of the manager (hundreds of people), and a template loop spent
more on them than on the rest of the page (an attribute sort, a getattr and two
escapes per option, each through the template's runtime)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape


def people_choices(people: Iterable[Mapping[str, Any]]) -> list[tuple[Any, Any]]:
    """(person id, display name) of each person, by name ignoring case, as Jinja's
    `sort(attribute="display_name")` orders them (stable: equal names keep their order)."""
    ordered = sorted(people, key=lambda p: _folded(p["display_name"]))
    return [(p["person_id"], p["display_name"]) for p in ordered]


def option_tags(options: Iterable[tuple[Any, Any]], chosen: Any) -> Markup:
    """`<option value="…"[ selected]>…</option>` for each (value, text), escaped, as
    the template wrote them one by one."""
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
