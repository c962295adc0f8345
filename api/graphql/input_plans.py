"""Input objects built by a plan made once per input type.

Strawberry turns a mutation's `input` into its input class by walking the type on every
request (`strawberry.types.arguments.convert_argument`): for each field its GraphQL name
made again from the Python name, its annotation resolved again, the scalar registry and
the enum and object definitions asked again: 30 to 50 µs of the event loop per mutation.
The walk depends on the type alone, so each input type gets a plan made once: which
GraphQL name fills which attribute, and how each value is converted (kept, copied as a
list, built by a nested plan). Strawberry calls it through the hook it offers for input
types that build their own value (`StrawberryObjectDefinition.from_input`).

The plan converts as strawberry's walk does: a null stays None, an unset value UNSET,
a list of leaves (scalars, enums) is copied (graphql-core hands every request the same
default list), a list of inputs is built item by item, a field the value lacks keeps
its default (None when it has none), and the class passed in is the one built. Types
the plan does not cover (`Maybe`, lazy types, relay's GlobalID, an input with its own
`from_input`) keep strawberry's walk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema import Schema
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]


class _Uncovered(Exception):
    """A type the plan does not convert: strawberry's walk keeps it."""


def _keep(value: Any) -> Any:
    return value


def install(schema: Schema) -> list[str]:
    """Give every input type of `schema` its plan; the names of those planned."""
    planner = _Planner(schema)
    planned = []
    for concrete in list(schema.schema_converter.type_map.values()):
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        if definition.from_input is not None:
            continue
        try:
            plan = planner.plan(definition)
        except _Uncovered:
            continue
        definition.from_input = plan
        planned.append(definition.name)
    return planned


class _Planner:
    def __init__(self, schema: Schema) -> None:
        self.registry = schema.schema_converter.scalar_registry
        self.names = schema.config.name_converter
        self.plans: dict[int, Callable[[type, Mapping[str, Any], Any], Any]] = {}

    def plan(self, definition: StrawberryObjectDefinition) -> Any:
        """`from_input` for one input type (its fields' converters made now)."""
        key = id(definition)
        if key in self.plans:
            return self.plans[key]
        # Strawberry passes None for every field without a default (graphql-core has
        # checked the required ones are there); the others keep the class's default.
        nones = {
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        }
        fields: list[tuple[str, str, Convert]] = []

        def from_input(cls: type, value: Mapping[str, Any], _context: Any) -> Any:
            kwargs = dict(nones)
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    kwargs[python_name] = convert(value[graphql_name])
            return cls(**kwargs)

        self.plans[key] = from_input  # before the fields: a type may hold itself
        try:
            for f in definition.fields:
                kind = f.resolve_type(type_definition=definition)
                fields.append((self.names.from_field(f), f.python_name, self.converter(kind)))
        except _Uncovered:
            del self.plans[key]
            raise
        return from_input

    def converter(self, kind: Any) -> Convert:
        """How a value of `kind` is converted, as `convert_argument` converts it."""
        if isinstance(kind, StrawberryMaybe | LazyType) or kind is GlobalID:
            raise _Uncovered(kind)
        if isinstance(kind, StrawberryOptional):
            return self.converter(kind.of_type)  # None is kept by every converter
        if isinstance(kind, StrawberryList):
            item = self.converter(kind.of_type)
            if item is _keep:
                return _list_copy
            return _list_of(item)
        if self._leaf(kind):
            return _keep
        if has_object_definition(kind):
            definition = kind.__strawberry_definition__
            if not definition.is_input or definition.from_input is not None:
                raise _Uncovered(kind)
            return _built(kind, self.plan(definition))
        raise _Uncovered(kind)

    def _leaf(self, kind: Any) -> bool:
        return (
            is_scalar(kind, self.registry)
            or isinstance(kind, StrawberryEnumDefinition)
            or has_enum_definition(kind)
        )


def _list_copy(value: Any) -> Any:
    if value is None or value is UNSET:
        return value
    return list(value)


def _list_of(item: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return [item(x) for x in value]

    return convert


def _built(cls: type, plan: Callable[[type, Mapping[str, Any], Any], Any]) -> Convert:
    def convert(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return plan(cls, value, None)

    return convert
