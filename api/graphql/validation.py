"""Validation results cached by query text.

Strawberry's `ValidationCache` keys its LRU by the parsed document, and hashing a
document walks every node of it: about 0.2 ms for an HRIS page query, on every request.
The text hashes in microseconds, and the same text always parses to the same document,
so with the same schema and rules it always validates the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

Key = tuple[str, tuple[Any, ...]]


class ValidationResults:
    """The validation errors of the last `size` query texts (per schema)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._found: OrderedDict[Key, list[GraphQLError]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> list[GraphQLError] | None:
        """The errors validating this text gave (empty: valid), or None if not known."""
        with self._lock:
            errors = self._found.get(key)
            if errors is not None:
                self._found.move_to_end(key)
            return errors

    def put(self, key: Key, errors: list[GraphQLError]) -> None:
        """Remember a text's validation, forgetting the least recently used."""
        with self._lock:
            self._found[key] = errors
            if len(self._found) > self.size:
                self._found.popitem(last=False)


def validate_by_text(execution: ExecutionContext, results: ValidationResults) -> None:
    """Validate the request's document once per query text (for this schema and these
    rules): the errors of an earlier request with the same text are reused. A request
    without text or document is left to strawberry's own validation."""
    document = execution.graphql_document
    if execution.query is None or document is None:
        return
    key = (execution.query, tuple(execution.validation_rules))
    errors = results.get(key)
    if errors is None:
        # strawberry offers its graphql-core schema only as `_schema` (its own
        # ValidationCache reads it so too).
        errors = validate_document(execution.schema._schema, document, execution.validation_rules)
        results.put(key, errors)
    execution.pre_execution_errors = errors
