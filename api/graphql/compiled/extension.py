"""The step of every request's extension (api.graphql.guards) that answers a compilable
query before the resolvers run."""

from __future__ import annotations

from strawberry.types import ExecutionContext, ExecutionResult

from api.graphql.compiled.plans import CompiledReads
from api.graphql.context import Context


async def answer_compiled(execution: ExecutionContext, reads: CompiledReads) -> None:
    """Set the operation's result from its compiled plan, when it has one (one SQL
    statement), or leave the operation to the resolvers.

    api.graphql.guards runs it as strawberry's `on_execute` hook: after parsing and
    validation (its caches and rules, so the document here is theirs); strawberry skips
    the executor when the result is already set, and whatever follows (error
    processing, masking) is the same on both paths."""
    ctx = execution.context
    if _serves(ctx) and execution.query and execution.graphql_document is not None:
        data = await reads.execute(
            ctx,
            # strawberry offers its graphql-core schema only as `_schema` (its own
            # validation reads it so too).
            execution.schema._schema,
            execution.graphql_document,
            execution.query,
            execution.variables,
            # The name the request gave (None for a document of one operation), not
            # the one strawberry infers: plans are kept by what requests carry, so
            # the lean route (api.graphql.compiled_route) finds them unparsed.
            execution._provided_operation_name,
        )
        if data is not None:
            # The JSON text goes into the response as it is (orjson.Fragment), never
            # parsed into Python objects: the page is thousands of values.
            execution.result = ExecutionResult(data=data, errors=None)  # type: ignore[arg-type]


def _serves(context: object) -> bool:
    """Compiled reads serve the request: a caller's (GraphiQL's page has no Context),
    on PostgreSQL (the SQL is PostgreSQL's), with the setting on, not already tried by
    the lean route (api.graphql.compiled_route)."""
    return (
        isinstance(context, Context) and context.ports.reads.compiled and not context.compiled_tried
    )
