"""Checks on a GraphQL request before it is parsed: text that is not text (NUL, lone
surrogates) and oversized lists are refused here, once, with a clear message — rather
than failing deep inside a resolver or the database driver as an unexpected error."""

from __future__ import annotations

import re
from typing import Any

MAX_LIST_ITEMS = 1_000
MAX_NESTING = 20
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# A NUL written as an escape inside a string literal (the parser itself refuses escaped
# lone surrogates).
_ESCAPED_NUL = re.compile(r"\\u(?:0000|\{0+\})")


def request_problem(query: str | None, variables: Any) -> str | None:
    """What is wrong with the request's document or variables, or None."""
    if query is not None and (_NOT_TEXT.search(query) or _ESCAPED_NUL.search(query)):
        return "The query contains a NUL character or invalid Unicode (a lone surrogate)."
    return _variables_problem(variables, depth=0)


def _variables_problem(value: Any, depth: int) -> str | None:
    if depth > MAX_NESTING:
        return f"Variables may nest at most {MAX_NESTING} levels deep."
    if isinstance(value, str):
        if _NOT_TEXT.search(value):
            return "A variable contains a NUL character or invalid Unicode (a lone surrogate)."
        return None
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            return f"A list in the variables has more than {MAX_LIST_ITEMS} items."
        items: list[Any] = value
    elif isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    else:
        return None
    for item in items:
        if problem := _variables_problem(item, depth + 1):
            return problem
    return None
