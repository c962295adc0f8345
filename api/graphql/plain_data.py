"""Completing plain-data objects without graphql-core's work per field.

The insights answer is a tree of plain values: at 100,000 people about 200,000 rows
of five fields (a row per team in every table and every month of the monthly series).
graphql-core completes each field on its own (resolve info, resolver, completion, path):
several µs a field even when the field only reads an attribute, so completing the
answer took several times as long as reading its tables.

For the object types named in PLAIN_TYPES, this execution context completes an object
in one pass instead, by a plan made once per selection: each selected field read the
way strawberry reads a field without a resolver of its own (its default resolver,
`api.graphql.rows.read_field`, with the field's Python name), and its value completed
the way graphql-core completes it (lists, non-null, the scalar's or enum's
`coerce_output_value`; built-in scalars of the exact Python type pass as they are, as
they do there). It handles only what it can complete exactly like that: a field with a
resolver or arguments (unless its resolver is marked, below), extensions, `@defer`, an
abstract type, a null in a non-null field, a value a scalar refuses, and the whole
object goes graphql-core's way (its fields are read again from scratch: plain fields
have no side effects), so answers and errors are the same on both paths
(tests/unit/test_graphql_plain_data.py).

A field with a resolver of its own is completed here only when the resolver is marked
`plain_selection` (a plain function of the source and the field's arguments: the
insight tables' `rows(groups:, first:, after:)`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# The types whose objects are completed in one pass: the insight tables, their months
# and rows (api.graphql.insights.types).
PLAIN_TYPES = frozenset({"Insights", "InsightTable", "InsightRow", "InsightMonth"})
MAX_INT, MIN_INT = 2**31 - 1, -(2**31)  # GraphQL's Int (graphql-core's serialize_int)

Complete = Callable[[Any], Any]
# Per selected field: its response key, how to read it from the source, how to complete it.
Plan = list[tuple[str, Callable[[Any, str], Any], str, Complete]]


PLAIN_SELECTION = "plain_selection"
F = TypeVar("F", bound=Callable[..., Any])


def plain_selection(resolver: F) -> F:
    """Marks a resolver of a PLAIN_TYPES field that is a plain function of its source and
    its arguments (scalars, lists of them): no `info`, no side effects, so it can be
    called in the one-pass completion (and called again there by graphql-core when the
    object goes its way)."""
    setattr(resolver, PLAIN_SELECTION, True)
    return resolver


class NotPlain(Exception):
    """This object needs graphql-core's own completion."""


class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with PLAIN_TYPES' objects completed in one pass."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By (type, the selection's identity), the selection kept alive with its plan (as
        # graphql-core memoizes collect_subfields); None: not plain, graphql-core's way.
        self._plans: dict[tuple[str, int], tuple[FieldDetailsList, Plan | None]] = {}

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if return_type.name in PLAIN_TYPES:
            try:
                return self._plain_object(return_type, field_details_list, result)
            except NotPlain:
                pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_object(
        self, kind: GraphQLObjectType, details: FieldDetailsList, source: Any
    ) -> dict[str, Any]:
        key = (kind.name, id(details))
        cached = self._plans.get(key)
        if cached is None:
            cached = self._plans[key] = (details, self._plan(kind, details))
        plan = cached[1]
        if plan is None:
            raise NotPlain
        return {field: complete(read(source, name)) for field, read, name, complete in plan}

    def _plan(self, kind: GraphQLObjectType, details: FieldDetailsList) -> Plan | None:
        manager = self.middleware_manager  # strawberry passes one without middlewares
        if kind.is_type_of is not None or (manager is not None and manager.middlewares):
            return None
        grouped, deferred, _ = self.collect_subfields(kind, details)
        if deferred:
            return None
        plan: Plan = []
        for key, field_details in grouped.items():
            node = field_details[0].node
            name = node.name.value
            if name == "__typename":
                plan.append((key, _typename, kind.name, _as_is))
                continue
            field = kind.fields.get(name)
            if field is None:
                return None
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None:
                return None
            read = self._reader(field, definition, field_details)
            if read is None:
                return None
            complete = self._completion(field.type, field_details)
            if complete is None:
                return None
            plan.append((key, read, definition.python_name, complete))
        return plan

    def _reader(
        self, field: GraphQLField, definition: Any, details: FieldDetailsList
    ) -> Callable[[Any, str], Any] | None:
        """How to read the field from its source: strawberry's default resolver for a
        field without a resolver of its own; a `plain_selection` resolver called with the
        selection's arguments (the same for every object of this selection, coerced
        once, as graphql-core coerces them); None: graphql-core's way."""
        if definition.is_basic_field:
            if details[0].node.arguments or not getattr(field.resolve, "_is_default", False):
                return None
            return definition.default_resolver  # type: ignore[no-any-return]
        resolver = definition.base_resolver
        if resolver is None or definition.extensions:
            return None
        function: Callable[..., Any] = resolver.wrapped_func
        if not getattr(function, PLAIN_SELECTION, False):
            return None
        try:
            given = get_argument_values(field, details[0].node, self.variable_values)
        except Exception:  # graphql-core reports it on its own path
            return None
        # Arguments named alike in Python and GraphQL only (no case conversion to redo).
        names = {a.python_name for a in definition.arguments if a.graphql_name is None}
        if not names.issuperset(given):
            return None
        kwargs = dict(given)

        def read(source: Any, _: str) -> Any:
            try:
                return function(source, **kwargs)
            except Exception:  # its error is graphql-core's to report, on its path
                raise NotPlain from None

        return read

    def _completion(self, kind: Any, details: FieldDetailsList) -> Complete | None:
        required = isinstance(kind, GraphQLNonNull)
        inner = self._completion_of(kind.of_type if required else kind, details)
        if inner is None:
            return None

        def complete(value: Any) -> Any:
            if value is None:
                if required:
                    raise NotPlain  # an error with its path: graphql-core's to report
                return None
            return inner(value)

        return complete

    def _completion_of(self, kind: Any, details: FieldDetailsList) -> Complete | None:
        if isinstance(kind, GraphQLList):
            item = self._completion(kind.of_type, details)
            if item is None:
                return None

            def complete_list(value: Any) -> Any:
                if not isinstance(value, list | tuple):
                    raise NotPlain
                return [item(v) for v in value]

            return complete_list
        if is_leaf_type(kind):
            return _leaf(kind)
        if isinstance(kind, GraphQLObjectType) and kind.name in PLAIN_TYPES:
            return lambda value: self._plain_object(kind, details, value)
        return None  # interfaces and unions: resolved by graphql-core


def _leaf(kind: Any) -> Complete:
    """graphql-core's leaf completion; the built-in scalars' values of their exact
    Python type pass unchanged there, and here without the call."""
    exact: type | None = {
        id(GraphQLString): str,
        id(GraphQLBoolean): bool,
        id(GraphQLInt): int,
        id(GraphQLFloat): float,
    }.get(id(kind))

    def coerced(value: Any) -> Any:
        try:
            done = kind.coerce_output_value(value)
        except Exception:  # the error is graphql-core's to report, on its own path
            raise NotPlain from None
        if done is Undefined or done is None:
            raise NotPlain
        return done

    if exact is int:
        return lambda v: v if type(v) is int and MIN_INT <= v <= MAX_INT else coerced(v)
    if exact is float:
        return lambda v: v if type(v) is float and math.isfinite(v) else coerced(v)
    if exact is not None:
        return lambda v: v if type(v) is exact else coerced(v)
    return coerced


def _typename(_: Any, name: str) -> str:
    return name


def _as_is(value: Any) -> Any:
    return value
