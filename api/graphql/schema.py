"""The GraphQL schema and its protective extensions."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql import input_plans
from api.graphql.agreements.types import Agreement
from api.graphql.compiled.plans import CompiledReads
from api.graphql.errors import is_public
from api.graphql.guards import Guards
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, CostLimitRule, coded
from api.graphql.mutation import Mutation
from api.graphql.people.types import Person
from api.graphql.plain_data import PlainDataExecutionContext
from api.graphql.query import Query
from api.graphql.rows import read_field
from api.graphql.validation import ValidationResults

log = logging.getLogger("crafting.graphql")


class CraftingSchema(strawberry.Schema):
    # Its compiled plans by document text, also served by the lean route
    # (api.graphql.compiled_route).
    compiled_reads: CompiledReads

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log each error by code and path only: messages can quote the query, and the
        query can hold personal notes."""
        for error in errors:
            original = error.original_error
            code = (error.extensions or {}).get("code", "GRAPHQL")
            if original is not None and not is_public(error):
                log.error(
                    "unexpected error in a resolver",
                    exc_info=original,
                    extra={"code": "INTERNAL", "operation": _path(error)},
                )
            else:
                log.info("graphql error", extra={"code": code, "operation": _path(error)})


def _path(error: GraphQLError) -> str | None:
    return ".".join(str(p) for p in error.path) if error.path else None


def build_schema(*, introspection: bool = True) -> CraftingSchema:
    """The schema. Introspection is on: the schema is public (schema.graphql), every
    request is authenticated, and integrators generate clients from it."""
    # The limiters make a new rule class per instance; built once here, every request
    # adds the very same rule classes, so the validation cache (keyed by the rules)
    # hits for a query text it has seen before.
    rules: tuple[type, ...] = (
        CostLimitRule,
        *map(coded, QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules),
        *map(coded, MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules),
        *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
    )
    validated = ValidationResults(512)  # by query text, shared by every request
    reads = CompiledReads()  # its plans, by document text, serve every request
    # One extension per request, fresh (it keeps state), doing every protection in
    # turn (api.graphql.guards): the token limit, the parse cache (a shared LRU),
    # validation by text, these rules, error masking, and agreement lists as one SQL
    # statement on PostgreSQL (api.graphql.compiled).
    guards = Guards(rules, validated, reads)
    extensions: list[Any] = [guards.extension]
    schema = CraftingSchema(
        query=Query,
        mutation=Mutation,
        types=[Agreement, Person],
        extensions=extensions,
        # The types of agreements, people and audit events are rows (api.graphql.rows).
        config=StrawberryConfig(default_resolver=read_field),
        # The insight tables' objects completed in one pass (api.graphql.plain_data).
        execution_context_class=PlainDataExecutionContext,
    )
    schema.compiled_reads = reads
    # Mutation inputs built by a plan made once per type (api.graphql.input_plans).
    input_plans.install(schema)
    return schema


def sdl() -> str:
    """The schema as SDL (committed as schema.graphql)."""
    return build_schema(introspection=True).as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
