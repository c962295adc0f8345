"""The crafting agreement: the aggregate and its rules (`aggregate`), its events
(`events`), the state changes and checks both share (`state`), which reverts are
allowed (`reversal`), and how its snapshots hold its records (`snapshot`)."""

from domain.agreement.aggregate import (
    CHILD_LIMITS,
    MAX_ADJUSTMENTS_PER_PROPOSAL,
    Agreement,
    ReallocationToggle,
)

__all__ = ["CHILD_LIMITS", "MAX_ADJUSTMENTS_PER_PROPOSAL", "Agreement", "ReallocationToggle"]
