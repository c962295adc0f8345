"""Audit log entries, and the connections (Relay) lists are served as."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.agreement_types import Agreement
from api.graphql.ids import global_id
from api.graphql.scalars import utc

Row = dict[str, Any]


@strawberry.type
class AuditEvent:
    """One recorded event, exactly as stored, with its metadata."""

    row: strawberry.Private[Row]

    @strawberry.field(description="Position in the global log (commit order).")
    def position(self) -> int:
        return int(self.row["position"])

    @strawberry.field
    def stream_type(self) -> str:
        return str(self.row["stream_type"])

    @strawberry.field
    def stream_id(self) -> str:
        return str(self.row["stream_id"])

    @strawberry.field
    def agreement_id(self) -> strawberry.ID | None:
        value = self.row["agreement_id"]
        return None if value is None else strawberry.ID(global_id("Agreement", value))

    @strawberry.field(description="The version of its stream this event produced.")
    def version(self) -> int:
        return int(self.row["version"])

    @strawberry.field
    def type(self) -> str:
        return str(self.row["type"])

    @strawberry.field
    def recorded_at(self) -> datetime:
        return utc(self.row["recorded_at"])  # type: ignore[return-value]

    @strawberry.field
    def actor_id(self) -> str:
        return str(self.row["actor_id"])

    @strawberry.field
    def actor_role(self) -> str:
        return str(self.row["actor_role"])

    @strawberry.field
    def reason(self) -> str | None:
        return self.row["reason"]  # type: ignore[no-any-return]

    @strawberry.field
    def correlation_id(self) -> str:
        return str(self.row["correlation_id"])

    @strawberry.field
    def idempotency_key(self) -> str | None:
        return self.row["idempotency_key"]  # type: ignore[no-any-return]

    @strawberry.field
    def payload(self) -> JSON:
        return self.row["payload"]  # type: ignore[no-any-return]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class AgreementEdge:
    cursor: str
    node: Agreement


@strawberry.type
class AgreementConnection:
    edges: list[AgreementEdge]
    page_info: PageInfo


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
