"""The revert forms of the agreement page (`_manager_macros.html`'s `revert_item`): a
form that was not refused is written without the `summary`, `hidden` and `field`
macros (up to 20 forms a page; those calls were a seventh of the page's CPU), byte for
byte as they write it; a refused form still goes through them."""

from __future__ import annotations

from typing import Any

import jinja2.runtime
import pytest

from api.web.agreements import CONFIRM
from api.web.assets import Assets
from api.web.site import templates

PAGE = (
    '{% import "_manager_macros.html" as m with context %}'
    "{% for ch in changes %}{{ m.revert_item(a, ch, named, names) }}{% endfor %}"
)
NAMED: dict[str, dict[str, Any]] = {
    "adjustments": {"j1": {"description": "Mentor <b>&</b> 'pairs'", "hours_per_week": 2.5}},
    "reallocations": {
        "r1": {"task": 'Deploys "on call"', "hours_per_week": 4, "to_person_id": "p2"}
    },
    "changes": {},
}
CHANGES = [
    {"change_id": "c1", "kind": "ADJUSTMENT_ADDED", "subject_id": "j1", "version": 7},
    {"change_id": "c<2>&", "kind": "TASK_REALLOCATED", "subject_id": "r1", "version": 8},
    {"change_id": "c3", "kind": "GUARDRAILS_CHANGED", "guardrails_after": None, "version": 9},
    {"change_id": "c4", "kind": "SKETCH_CHANGED", "sketch_before": None, "version": 10},
]


def _render(**values: Any) -> str:
    env = templates(Assets())
    context = {
        "a": {"agreement_id": "a-1", "version": 12, "title": "Craft <it>"},
        "changes": CHANGES,
        "named": NAMED,
        "names": {"p2": "Ana <O'Neil>"},
        "confirmations": CONFIRM,
        "csrf_token": "tok<en>",
        "idempotency_key": "idem&key",
        "failed": None,
        "errors": None,
        "form": None,
    }
    return env.from_string(PAGE).render(context | values)


@pytest.mark.parametrize("change", [c["change_id"] for c in CHANGES])
def test_a_form_not_refused_is_written_as_the_form_macros_write_it(change: str) -> None:
    # Refused with no error and nothing sent, a form goes through the macros and must
    # come out as every form that was not refused.
    through_macros = _render(failed=f"revert-{change}", errors={}, form={})
    assert _render() == through_macros
    assert _render(failed="approve", errors={"reason": "x"}, form={"reason": "y"}) == through_macros
    assert 'value="tok&lt;en&gt;"' in through_macros
    assert 'id="revert-c&lt;2&gt;&amp;-reason"' in through_macros


def test_a_refused_form_shows_its_error_what_was_sent_and_its_version() -> None:
    page = _render(
        failed="revert-c1",
        errors={"reason": "Say <why>"},
        form={"reason": "because & so", "expected_version": "5"},
    )
    assert page.count("Say &lt;why&gt;") == 2  # the summary's link and the field's error
    assert 'value="because &amp; so" aria-required="true" aria-invalid="true"' in page
    assert 'name="expected_version" value="5"' in page  # the version it was shown with
    assert page.count('name="expected_version" value="12"') == len(CHANGES) - 1


def test_forms_not_refused_call_no_form_macro(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    call = jinja2.runtime.Macro.__call__

    def counted(self: jinja2.runtime.Macro, *args: Any, **kwargs: Any) -> Any:
        called.append(self.name)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.runtime.Macro, "__call__", counted)
    _render()
    assert {"summary", "hidden", "field"}.isdisjoint(called)
    assert sorted(set(called)) == ["change_label", "revert_item"]
