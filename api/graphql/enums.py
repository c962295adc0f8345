"""The domain's enums, registered as GraphQL enums under the same names (strawberry
marks the classes themselves, so the domain types are used directly)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.records import ChangeKind
from domain.sketch import BlockMove, Energy, RelationshipKind
from domain.values import (
    AdjustmentKind,
    AgreementStatus,
    ArtifactKind,
    ChangeStatus,
    ReviewOutcome,
    Role,
)

for _enum in (
    AgreementStatus,
    AdjustmentKind,
    ChangeStatus,
    ReviewOutcome,
    ArtifactKind,
    Role,
    ChangeKind,
    Energy,
    BlockMove,
    RelationshipKind,
):
    strawberry.enum(_enum)


@strawberry.enum
class AuditOrder(Enum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"


__all__ = [
    "AdjustmentKind",
    "AgreementStatus",
    "ArtifactKind",
    "AuditOrder",
    "BlockMove",
    "ChangeKind",
    "ChangeStatus",
    "Energy",
    "RelationshipKind",
    "ReviewOutcome",
    "Role",
]
