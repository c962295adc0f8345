"""The schema extension that answers a compilable query before the resolvers run."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from api.graphql.compiled.plans import CompiledReads
from api.graphql.context import Context


class CompiledReadsExtension(SchemaExtension):
    """Sets the operation's result from its compiled plan, when it has one.

    Strawberry runs `on_execute` after parsing and validation (its caches and rules,
    so the document here is theirs) and skips the executor when the result is already
    set; whatever follows — error processing, masking, the other extensions' hooks — is
    the same on both paths.
    """

    def __init__(self, reads: CompiledReads) -> None:
        super().__init__()
        self.reads = reads

    async def on_execute(self) -> AsyncIterator[None]:
        """Answer with one SQL statement, or leave the operation to the resolvers."""
        execution = self.execution_context
        ctx = execution.context
        if _serves(ctx) and execution.query and execution.graphql_document is not None:
            data = await self.reads.execute(
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
        yield


def _serves(context: object) -> bool:
    """Compiled reads serve the request: a caller's (GraphiQL's page has no Context),
    on PostgreSQL (the SQL is PostgreSQL's), with the setting on, not already tried by
    the lean route (api.graphql.compiled_route)."""
    return (
        isinstance(context, Context) and context.ports.reads.compiled and not context.compiled_tried
    )
