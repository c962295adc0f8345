"""The SCIM filters identity providers send on every sync (`userName eq`, `externalId
eq`, `active eq`, the employee number, joined by `and`) as SQL over the directory. Any
other filter returns None: the storage then matches it on every visible user with
scim2-models, so every valid filter is answered, the common ones by an index. Names and
e-mails are sealed in the read model (erasure destroys their key), so filters on them
are matched too."""

from __future__ import annotations

from typing import Any

from scim2_models import InvalidFilterException
from scim2_models.path.expressions import (
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
    Not,
    ValuePath,
)
from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

from api.scim.models import ENTERPRISE
from projections.tables import ReadModel

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
# What one filter may ask: identity providers send one to three comparisons. A filter
# that is not one of the simple ones is matched on every visible user, so its cost is
# its comparisons times the directory (600 comparisons took 7.7 s of CPU a request).
MAX_FILTER_LENGTH = 2_000  # characters, checked before it is parsed
MAX_FILTER_TERMS = 20  # comparisons (and `pr`) in the whole filter
MAX_FILTER_DEPTH = 10  # nested and/or/not/[...]


def check_filter_text(text: object) -> None:
    """Refuse a filter too long to be worth parsing (invalidFilter, 400)."""
    if isinstance(text, str) and len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(
            detail=f"A filter may be at most {MAX_FILTER_LENGTH:,} characters long."
        )


def check_filter_cost(node: Any) -> None:
    """Refuse a filter with more comparisons or nesting than allowed (invalidFilter)."""
    terms, deepest = 0, 0
    pending: list[tuple[Any, int]] = [(node, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(current, LogicalExpr):
            pending.extend((term, depth + 1) for term in current.terms)
        elif isinstance(current, Not):
            pending.append((current.expr, depth + 1))
        elif isinstance(current, ValuePath):
            pending.append((current.val_filter, depth + 1))
        else:
            terms += 1
    if terms > MAX_FILTER_TERMS:
        raise InvalidFilterException(
            detail=f"A filter may have at most {MAX_FILTER_TERMS} comparisons; "
            f"this one has {terms}."
        )
    if deepest > MAX_FILTER_DEPTH:
        raise InvalidFilterException(
            detail=f"A filter may nest at most {MAX_FILTER_DEPTH} levels deep."
        )


def sql_condition(node: Any, rm: ReadModel) -> ColumnElement[bool] | None:
    """The filter as a SQL condition, or None when it is not one of the simple ones."""
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        parts = [sql_condition(term, rm) for term in node.terms]
        if any(p is None for p in parts):
            return None
        return and_(*(p for p in parts if p is not None))
    if isinstance(node, Comparison):
        path = node.attr_path
        return _equal(rm, path.attr.lower(), (path.sub_attr or "").lower() or None, path.uri, node)
    return None


def _equal(
    rm: ReadModel, attr: str, sub: str | None, uri: str | None, node: Comparison
) -> ColumnElement[bool] | None:
    if node.op != CompareOperator.eq:
        return None
    c, value = rm.people.c, node.value
    if uri not in (None, CORE) and not (uri == ENTERPRISE and attr == "employeenumber"):
        return None
    if attr in ("username", "id") and sub is None and isinstance(value, str):
        return c.person_id == value  # caseExact: the person id
    if attr == "externalid" and sub is None and isinstance(value, str):
        return c.external_id == value  # caseExact (RFC 7643 §3.1)
    if attr == "active" and sub is None and isinstance(value, bool):
        return c.active.is_(value)
    if attr == "employeenumber" and uri == ENTERPRISE and isinstance(value, str):
        return c.employee_number == value
    return None
