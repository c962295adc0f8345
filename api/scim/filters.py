"""The SCIM filters identity providers send on every sync (`userName eq`, `externalId
eq`, `active eq`, the employee number, joined by `and`) as SQL over the directory. Any
other filter returns None: the storage then matches it on every visible user with
scim2-models, so every valid filter is answered, the common ones by an index. Names and
e-mails are sealed in the read model (erasure destroys their key), so filters on them
are matched too."""

from __future__ import annotations

from typing import Any

from scim2_models.path.expressions import (
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
)
from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

from api.scim.models import ENTERPRISE
from projections.tables import ReadModel

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


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
