"""A select's options made in Python (api.web.choices) are the ones the template loop
made, byte for byte: order (by name, ignoring case, stable), escaping, the chosen one."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from api.web.assets import Assets
from api.web.choices import option_tags, people_choices, receiver_options
from api.web.site import templates

# What the agreement page's templates did before (agreement_manager.html, the field
# macro of _manager_macros.html).
LOOP = (
    '{% set receivers = receivers | sort(attribute="display_name") %}'
    '{% set options = [("", "Choose a person")] %}'
    "{% for p in receivers %}{% set options = options.append((p.person_id, p.display_name))"
    " or options %}{% endfor %}"
    '{% for option, text in options %}<option value="{{ option }}"'
    "{% if option == value %} selected{% endif %}>{{ text }}</option>{% endfor %}"
)
MADE = '{{ option_tags([("", "Choose a person")] + people_choices(receivers), value) }}'

PEOPLE = [
    {"person_id": "p-3", "display_name": "bo berg"},
    {"person_id": "p-1", "display_name": "Ana <Lima> & \"Co\" 'x'"},
    {"person_id": "p-2", "display_name": "Bo Berg"},  # equal ignoring case: kept in order
    {"person_id": "p-<4>", "display_name": "Åsa"},
    {"person_id": "p-5", "display_name": "[erased]"},
    {"person_id": "p-6", "display_name": "ana lima"},
]


def _env() -> Environment:
    return templates(Assets())


def _both(receivers: list[dict[str, Any]], value: Any) -> tuple[str, str]:
    env = _env()
    values = {"receivers": receivers, "value": value}
    return env.from_string(LOOP).render(values), env.from_string(MADE).render(values)


def test_the_receivers_options_are_the_template_loops_byte_for_byte() -> None:
    for value in ("", "p-2", "p-<4>", "nobody"):
        looped, made = _both(PEOPLE, value)
        assert made == looped
    assert (
        _both([], "")[0]
        == _both([], "")[1]
        == ('<option value="" selected>Choose a person</option>')
    )


def test_people_are_listed_by_name_ignoring_case() -> None:
    # "[" sorts before the letters once they are lower case, "Å" after them (as Jinja).
    listed = [pid for pid, _ in people_choices(PEOPLE)]
    assert listed == ["p-5", "p-1", "p-6", "p-3", "p-2", "p-<4>"]


def test_option_tags_escape_values_and_texts() -> None:
    assert option_tags([('a"b', "<i>")], 'a"b') == (
        '<option value="a&#34;b" selected>&lt;i&gt;</option>'
    )


def test_the_kept_receiver_options_are_the_template_loops_byte_for_byte() -> None:
    """The receiver list as the key ring keeps it (`receiver_options`, made of the opened
    rows; shown through `receivers_of` and the field macro's `option_tags`) is the
    template loop's, whichever option is chosen."""
    env = _env()
    rows = [(p["person_id"], p["display_name"]) for p in PEOPLE]
    kept = receiver_options(rows)
    shown = "{{ option_tags(receivers_of(receivers), value) }}"
    for value in ("", "p-2", "p-<4>", "nobody"):
        looped = env.from_string(LOOP).render(receivers=PEOPLE, value=value)
        assert env.from_string(shown).render(receivers=kept, value=value) == looped
        # ... and from the rows themselves (a page whose read kept nothing).
        assert env.from_string(shown).render(receivers=PEOPLE, value=value) == looped
    assert (
        option_tags(receiver_options([]), "")
        == '<option value="" selected>Choose a person</option>'
    )
