"""The insights page's one-shot tables: their chart bars and table rows are made in
Python (api.web.insights.bars, table_rows), byte for byte as the template's loops wrote
them before (kept here as the reference), on awkward rows: long and marked-up names,
names at the truncation's edge, withheld rows, a missing value, an empty group."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from api.web.insights import BAR, Section, bars, share, table_rows
from projections.insights.figures import ReleasedRow

# The template's loops as they were (api/web/templates/insights.html before).
BARS = """{% set row_h = 26 %}{% set left = 130 %}
  {% for r in shown %}
  {% set y = loop.index0 * row_h + 4 %}
  {% set pct = share(r) or 0 %}
  <text x="0" y="{{ y + 14 }}" font-size="12" fill="#1b1f24">{{ r.group | truncate(18, True, "…") }}</text>
  <rect x="{{ left }}" y="{{ y }}" width="{{ [pct * 3, 1] | max }}" height="18" fill="#0b57a4"></rect>
  <text x="{{ left + pct * 3 + 4 }}" y="{{ y + 14 }}" font-size="12" fill="#1b1f24">{{ "%g" | format(pct) }} %</text>
  {% endfor %}
"""
ROWS = """  {% for r in s.rows + ([s.total] if s.total else []) %}
  <tr><th scope="row">{{ r.group }}</th>
  {% if r.counts %}
  <td>{{ r.counts[0] }}</td><td>{{ r.counts[1] }}</td><td>{{ "%g" | format(share(r) or 0) }} %</td>{% if s.value %}<td>{{ "—" if r.measure is none else "%g" | format(r.measure) }}</td>{% endif %}
  {% else %}
  <td colspan="{{ 4 if s.value else 3 }}">Withheld</td>
  {% endif %}</tr>
  {% endfor %}
"""
ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

ROWS_SEEN = [
    ReleasedRow("A very long team name that goes on <&> \"'", (3, 4), None),
    ReleasedRow("exactly-23-characters!!", (0, 0), 2.5),
    ReleasedRow("x" * 24, (1, 9), 12.25),
    ReleasedRow("eighteen-chars-abc", (7, 0), 100.0),
    ReleasedRow("withheld", None),
    ReleasedRow("", (2, 3), 1e-7),
]


def test_the_chart_bars_are_the_templates() -> None:
    shown = [r for r in ROWS_SEEN if r.counts]
    reference = ENV.from_string(BARS).render(shown=shown, share=share, bar=BAR)
    assert bars(shown, 26, 130) == reference
    assert "&lt;&amp;&gt;" not in reference and "…" in reference


@pytest.mark.parametrize("value", ["Hours per week", None])
@pytest.mark.parametrize("total", [ReleasedRow("All", (13, 16), 3.3), None])
def test_the_table_rows_are_the_templates(value: str | None, total: ReleasedRow | None) -> None:
    section = Section("T", "do", value, ROWS_SEEN, total)
    reference = ENV.from_string(ROWS).render(s=section, share=share)
    assert table_rows(section) == reference
    assert "&lt;&amp;&gt;" in reference and "Withheld" in reference
