"""Every request's protections as one schema extension (api.graphql.guards): strawberry
looks up one extension's hooks per stage, not six; what each protection does is the same."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from strawberry.extensions.context import ExtensionContextManagerBase

from api.graphql.limits import MAX_TOKENS, TOO_COMPLEX
from api.graphql.schema import build_schema

SCHEMA = build_schema()


def test_a_request_looks_up_one_extension_per_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = 0
    real = ExtensionContextManagerBase.get_hook

    def counted(self: ExtensionContextManagerBase, extension: Any) -> Any:
        nonlocal lookups
        lookups += 1
        return real(self, extension)

    monkeypatch.setattr(ExtensionContextManagerBase, "get_hook", counted)
    result = asyncio.run(SCHEMA.execute("{ __typename }"))
    assert result.errors is None and result.data == {"__typename": "Query"}
    # operation, parse, validate, execute: one hook each (six extensions made 24).
    assert lookups == 4


def test_the_protections_still_apply() -> None:
    too_long = "{ " + " ".join(["__typename"] * (MAX_TOKENS + 1)) + " }"
    refused = asyncio.run(SCHEMA.execute(too_long))
    assert refused.errors and refused.errors[0].extensions == {"code": TOO_COMPLEX}
    assert f"more than {MAX_TOKENS} tokens" in refused.errors[0].message
    deep = "{ " + "agreements { edges { node { " * 4 + "id" + " } } }" * 4 + " }"
    refused = asyncio.run(SCHEMA.execute(deep))
    assert refused.errors and refused.errors[0].extensions == {"code": TOO_COMPLEX}
    unknown = asyncio.run(SCHEMA.execute("{ noSuchField }"))
    assert unknown.errors and "noSuchField" in unknown.errors[0].message
    again = asyncio.run(SCHEMA.execute("{ noSuchField }"))  # validated once, by its text
    assert again.errors and again.errors[0] is unknown.errors[0]


def test_unexpected_errors_are_still_masked() -> None:
    # No context: the resolver fails on something that is not a GraphQLError.
    result = asyncio.run(SCHEMA.execute("{ agreements(first: 1) { edges { cursor } } }"))
    assert result.errors and [e.message for e in result.errors] == ["Unexpected error."]
    assert result.errors[0].original_error is None
