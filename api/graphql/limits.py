"""Limits on what one request may ask for: depth, tokens, aliases and cost."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation import ASTValidationRule

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30
MAX_COST = 25_000
DEFAULT_PAGE = 20
LIST_GUESS = 10  # children lists without `first` (adjustments of one agreement, ...)
TOO_COMPLEX = "QUERY_TOO_COMPLEX"  # the code of every refusal here (docs/integration.md)
PAGED = {"agreements", "auditLog", "changes", "reviewsDue"}
LISTS = {
    "adjustments",
    "reallocations",
    "reviews",
    "artifacts",
    "changes",
    "outcomes",
    "members",
    "skills",
    "people",
    "agreements",
}


def coded(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """`rule` (strawberry's depth or alias limit), its refusals carrying QUERY_TOO_COMPLEX
    like the cost limit's, so a client can tell them from a mistake in the query."""

    class Coded(rule):  # type: ignore[valid-type,misc]
        # strawberry's limiters judge the whole document in __init__ and report through
        # the context, not through the rule: mark what they report meanwhile.
        def __init__(self, context: ValidationContext) -> None:
            report = context.on_error

            def marked(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": TOO_COMPLEX}
                report(error)

            context.on_error = marked  # type: ignore[method-assign]
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]

    Coded.__name__ = Coded.__qualname__ = f"Coded{rule.__name__}"
    return Coded


def mark_too_many_tokens(error: GraphQLError) -> None:
    """The parser's refusal of a document over MAX_TOKENS (a plain syntax error), marked
    QUERY_TOO_COMPLEX like the other limits' (api.graphql.guards calls it)."""
    if f"more than {MAX_TOKENS} tokens" in error.message:
        error.extensions = {**(error.extensions or {}), "code": TOO_COMPLEX}


class CostLimitRule(ValidationRule):
    """Estimated cost: each field costs 1 times how many times it will be resolved;
    a paged field multiplies its selection by `first` (100 when it is a variable),
    other lists by a fixed guess. Fragments are expanded."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        """Refuse the operation if its estimated cost is over the limit."""
        cost = self._cost(node.selection_set, 1, depth=0)
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"Query is too expensive: estimated cost {cost} exceeds {MAX_COST}. "
                    "Ask for smaller pages or fewer fields.",
                    node,
                    extensions={"code": TOO_COMPLEX},
                )
            )

    def _cost(self, selection_set: SelectionSetNode | None, multiplier: int, depth: int) -> int:
        if selection_set is None or depth > 50:
            return 0
        context: ValidationContext = self.context
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                total += multiplier
                if depth == 0 and name in PAGED:  # root connections
                    factor = _page_size(selection)
                else:
                    factor = LIST_GUESS if name in LISTS else 1
                total += self._cost(selection.selection_set, multiplier * factor, depth + 1)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, multiplier, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = context.get_fragment(selection.name.value)
                if fragment is not None:
                    total += self._cost(fragment.selection_set, multiplier, depth + 1)
        return total


def _page_size(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), 100))
            return 100  # a variable: assume the most it may be
    return DEFAULT_PAGE if node.name.value != "changes" else 100
