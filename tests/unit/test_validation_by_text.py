"""Validation results are cached by query text: the same text is validated once, and a
cached result is the same result (errors and all)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.graphql import validation
from api.graphql.schema import build_schema


def _errors(schema: Any, query: str) -> list[str]:
    result = asyncio.run(schema.execute(query))
    return [e.message for e in result.errors or ()]


def test_a_text_is_validated_once_and_keeps_its_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = validation.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        calls.append("validate")
        return real(schema, document, rules)

    monkeypatch.setattr(validation, "validate_document", counting)
    schema = build_schema()
    unknown = "{ agreements(first: 1) { edges { node { nope } } } }"
    first = _errors(schema, unknown)
    assert first and "nope" in first[0]
    assert _errors(schema, unknown) == first
    assert len(calls) == 1
    assert _errors(schema, "{ __typename }") == []
    assert len(calls) == 2
    too_deep = "{ agreements { edges { node { employee { manager { manager { manager { manager { manager { manager { manager { id } } } } } } } } } } } }"
    assert any("depth" in m for m in _errors(schema, too_deep))
    assert any("depth" in m for m in _errors(schema, too_deep))
    assert len(calls) == 3
