"""`row.title` in a template (api.web.site.RowsEnvironment): a plain dict's key read
without Jinja's failed attribute lookup first, with Jinja's very answer in every case —
a key, a missing key, a name a dict has as an attribute (`items`, `get`...), a dict
subclass, other objects — and the same pages rendered."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jinja2.environment
import pytest
from jinja2 import Environment, StrictUndefined, Undefined, select_autoescape

from api.web.assets import Assets
from api.web.site import RowsEnvironment, templates


@dataclass
class Thing:
    title: str = "a thing"


NAMES = ["title", "missing", "items", "get", "keys", "values", "__class__", "__doc__", "copy"]
OBJECTS: list[Any] = [
    {"title": "<b>T</b>", "items": 3, "get": "g", "values": None, "copy": 0},
    {},
    OrderedDict(title="ordered", items=1),
    Thing(),
    "a string",
    [1, 2],
    None,
]


def _answer(env: Environment, obj: Any, name: str) -> tuple[str, Any]:
    found = env.getattr(obj, name)
    if isinstance(found, Undefined):
        return "undefined", (type(found), found._undefined_obj is obj, found._undefined_name)
    return "found", found


@pytest.mark.parametrize("undefined", [Undefined, StrictUndefined])
def test_every_lookup_answers_as_jinjas(undefined: type[Undefined]) -> None:
    ours, theirs = RowsEnvironment(undefined=undefined), Environment(undefined=undefined)
    for obj in OBJECTS:
        for name in NAMES + sorted(dir(dict)):
            assert _answer(ours, obj, name) == _answer(theirs, obj, name), (obj, name)


def test_the_pages_read_a_rows_key_without_an_attribute_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[str] = []

    def counted(obj: Any, name: str) -> Any:
        tried.append(name)
        return getattr(obj, name)

    # Jinja's own lookup calls the builtin through its module's globals.
    monkeypatch.setattr(jinja2.environment, "getattr", counted, raising=False)
    env = templates(Assets())  # what every page renders with
    assert env.getattr({"title": "x"}, "title") == "x"
    assert tried == []  # no AttributeError raised and caught: the cost removed
    assert env.getattr(OrderedDict(title="y"), "title") == "y"
    assert tried == ["title"]  # a dict subclass: Jinja's way


TEMPLATE = (
    "{% for r in rows %}<li>{{ r.title }}|{{ r.items }}|{{ r.missing }}|"
    "{{ r.get('title') }}|{{ r.nested.title if r.nested }}</li>{% endfor %}"
)


def test_a_template_renders_the_same_bytes() -> None:
    rows = [
        {"title": "<script>&", "items": [1], "nested": {"title": "n'"}},
        {"title": None},
        OrderedDict(title="o", nested=Thing()),
    ]
    pages = [
        env_class(autoescape=select_autoescape(default_for_string=True))
        .from_string(TEMPLATE)
        .render(rows=rows)
        for env_class in (RowsEnvironment, Environment)
    ]
    assert pages[0] == pages[1]
    assert "&lt;script&gt;&amp;" in pages[0]
