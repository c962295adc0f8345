"""Mutation inputs built by a plan made once per input type (api.graphql.input_plans):
the same values strawberry's walk builds, without the walk on every request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry.types.arguments as arguments
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.utilities import coerce_input_value
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryObjectDefinition

from api.graphql.schema import CraftingSchema, build_schema

SCHEMA = build_schema()
SCALARS: dict[str, Any] = {
    "String": "text",
    "ID": "QWdyZWVtZW50OjE=",
    "Int": 3,
    "Float": 1.5,
    "Boolean": True,
    "Date": "2026-03-04",
    "DateTime": "2026-03-04T05:06:07+00:00",
    "JSON": {"a": [1, 2]},
}


def _inputs(schema: CraftingSchema) -> dict[str, StrawberryObjectDefinition]:
    return {
        name: concrete.definition
        for name, concrete in schema.schema_converter.type_map.items()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and concrete.definition.is_input
    }


@contextmanager
def strawberry_walk() -> Iterator[None]:
    """Strawberry's own conversion, the plans set aside."""
    definitions = _inputs(SCHEMA).values()
    kept = {id(d): d.from_input for d in definitions}
    for d in definitions:
        d.from_input = None
    try:
        yield
    finally:
        for d in definitions:
            d.from_input = kept[id(d)]


def sample(kind: GraphQLInputType, variant: str, depth: int = 0) -> Any:
    """A JSON value of `kind`: every field (`full`), the required ones (`required`), or
    nulls wherever allowed (`nulls`)."""
    nullable = not isinstance(kind, GraphQLNonNull)
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if nullable and variant == "nulls" and depth > 0:
        return None
    if isinstance(kind, GraphQLList):
        return [sample(kind.of_type, variant, depth + 1) for _ in range(2)]
    if isinstance(kind, GraphQLEnumType):
        return list(kind.values)[-1]
    if isinstance(kind, GraphQLScalarType):
        return SCALARS[kind.name]
    assert isinstance(kind, GraphQLInputObjectType)
    return {
        name: sample(field.type, variant, depth + 1)
        for name, field in kind.fields.items()
        if variant != "required" or isinstance(field.type, GraphQLNonNull) or depth > 3
    }


def test_every_input_type_has_a_plan() -> None:
    # Without the plans, strawberry's walk converts every input: no type has one.
    planned = sorted(n for n, d in _inputs(SCHEMA).items() if d.from_input is not None)
    assert planned == sorted(_inputs(SCHEMA))
    assert "RecordReviewInput" in planned and "SketchBlockInput" in planned


def test_a_mutation_input_is_converted_in_one_step() -> None:
    """strawberry's `convert_argument` is entered once for the whole input (the plan
    does the rest), not once per field and nested value."""
    field = next(
        f for f in SCHEMA.get_type_by_name("Mutation").fields if f.name == "add_adjustment"
    )  # type: ignore[union-attr]
    graphql_type = SCHEMA._schema.mutation_type.fields["addAdjustment"].args["input"].type  # type: ignore[union-attr]
    value = {"input": coerce_input_value(sample(graphql_type, "full"), graphql_type)}
    calls = 0
    walk = arguments.convert_argument

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return walk(*args, **kwargs)

    arguments.convert_argument = counted  # type: ignore[assignment]
    try:
        convert_arguments(
            value, field.arguments, SCHEMA.schema_converter.scalar_registry, SCHEMA.config
        )
    finally:
        arguments.convert_argument = walk
    assert calls == 1


@pytest.mark.parametrize("variant", ["full", "required", "nulls"])
def test_plans_build_what_strawberry_builds(variant: str) -> None:
    """Every argument of every mutation (and every input type reached from them), each
    field given, only the required ones, or null wherever allowed: equal values, and
    lists copied, never the value graphql-core handed over."""
    mutation = SCHEMA.get_type_by_name("Mutation")
    assert mutation is not None
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    compared = 0
    for field in mutation.fields:  # type: ignore[union-attr]
        graphql_field = SCHEMA._schema.mutation_type.fields[
            config.name_converter.get_graphql_name(field)
        ]  # type: ignore[union-attr]
        value = {
            name: coerce_input_value(sample(arg.type, variant), arg.type)
            for name, arg in graphql_field.args.items()
        }
        planned = convert_arguments(value, field.arguments, registry, config)
        with strawberry_walk():
            walked = convert_arguments(value, field.arguments, registry, config)
        assert planned == walked, field.name
        assert repr(planned) == repr(walked)
        _no_shared_lists(planned, value)
        compared += 1
    assert compared >= 30


def _no_shared_lists(built: Any, given: Any) -> None:
    given_lists = {id(v) for v in _lists(given)}
    assert not any(id(v) in given_lists for v in _lists(built))


def _lists(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, list):
        yield value
        for v in value:
            yield from _lists(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _lists(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _lists(getattr(value, name))
