"""Every request's protections as one schema extension.

The token limit, the parse cache, validation by text, the extra validation rules, error
masking and the compiled reads were six extensions: strawberry made six instances per
request and, for each of its four stages, looked each one's hook up again (24 lookups,
each hook wrapped in a context manager made for the request), ~10% of the event loop's
CPU for a mutation. One extension does the same steps in the same order, with one
hook per stage:

- operation, going in: the parser's token limit (strawberry's MaxTokensLimiter), then
  the rules added after strawberry's own (AddValidationRules); coming out: errors
  masked (MaskErrors, with `is_public`), then a refusal of the token limit marked
  QUERY_TOO_COMPLEX (also when it passes through as an exception, which skips masking,
  as it did);
- parse: the shared LRU of parsed documents (ParserCache);
- validate: validation results kept by text (api.graphql.validation);
- execute: a compiled read answered before the resolvers (api.graphql.compiled).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.execution import StreamExecutionResult

from api.graphql.compiled.extension import answer_compiled
from api.graphql.compiled.plans import CompiledReads
from api.graphql.errors import is_public
from api.graphql.limits import MAX_TOKENS, mark_too_many_tokens
from api.graphql.validation import ValidationResults, validate_by_text


class Guards:
    """What every request's extension shares: made once per schema."""

    def __init__(
        self, rules: tuple[type, ...], validated: ValidationResults, reads: CompiledReads
    ) -> None:
        self.rules = rules
        self.validated = validated
        self.reads = reads
        # strawberry's ParserCache keeps one LRU per size for the process.
        self.parse: Callable[..., Any] = ParserCache(maxsize=512).cached_parse_document
        self.masking = MaskErrors(should_mask_error=lambda error: not is_public(error))

    def extension(self) -> RequestGuards:
        """A request's extension (strawberry takes factories: one per request)."""
        return RequestGuards(self)


class RequestGuards(SchemaExtension):
    def __init__(self, guards: Guards) -> None:
        super().__init__()
        self.guards = guards
        self._stream_result_processed = False

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = MAX_TOKENS
        execution.validation_rules = execution.validation_rules + self.guards.rules
        self._stream_result_processed = False
        try:
            yield
        except GraphQLError as refused:
            # The parse cache parses inside its hook: a refusal of the token limit
            # passes through here as an exception.
            mark_too_many_tokens(refused)
            raise
        # MaskErrors: a streamed result was masked frame by frame.
        if not self._stream_result_processed:
            result = execution.result
            if isinstance(result, GraphQLExecutionResult | ExecutionResult):
                self._mask(result)
            elif initial_result := getattr(result, "initial_result", None):
                self._mask(initial_result)
        for error in execution.pre_execution_errors or ():
            mark_too_many_tokens(error)

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = self.guards.parse(execution.query, **execution.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        validate_by_text(self.execution_context, self.guards.validated)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        await answer_compiled(self.execution_context, self.guards.reads)
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Mask errors before a streamed execution result reaches the client."""
        self._stream_result_processed = True
        self._mask(result)
        for incremental_result in getattr(result, "incremental", None) or ():
            self._mask(incremental_result)
        for completed_result in getattr(result, "completed", None) or ():
            self._mask(completed_result)
        yield None

    def _mask(self, result: object) -> None:
        """MaskErrors' pass: errors not public replaced by 'Unexpected error.'."""
        errors = getattr(result, "errors", None)
        if errors:
            masking = self.guards.masking
            result.errors = [  # type: ignore[attr-defined]
                masking.anonymise_error(e) if masking.should_mask_error(e) else e for e in errors
            ]
