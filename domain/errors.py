"""Domain errors: every rule violation is one of these, with a stable code."""

from __future__ import annotations


class DomainError(Exception):
    """A user error: the command broke a rule, and nothing was recorded."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NothingToRevert(InvalidInput):
    """A revert to a version after which nothing in effect changed: refused as input
    (GraphQL's code is unchanged), but a preview may show it as plain information."""


class ReasonRequired(DomainError):
    code = "REASON_REQUIRED"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"


class NotFound(DomainError):
    code = "NOT_FOUND"


class UnknownPerson(DomainError):
    code = "UNKNOWN_PERSON"


class GuardrailExceeded(DomainError):
    code = "GUARDRAIL_EXCEEDED"


class ProtectedResponsibility(DomainError):
    code = "PROTECTED_RESPONSIBILITY"


class ReceiverOverloaded(DomainError):
    code = "RECEIVER_OVERLOADED"


class VersionConflict(DomainError):
    code = "VERSION_CONFLICT"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class ChangeNotRevertible(DomainError):
    code = "CHANGE_NOT_REVERTIBLE"


class LimitReached(DomainError):
    code = "LIMIT_REACHED"


class LegalHold(DomainError):
    code = "LEGAL_HOLD"


class Forbidden(Exception):
    """The caller may not do this. Deliberately not a DomainError: the API turns it
    into a GraphQL error that says nothing about whether the object exists."""

    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)
        self.message = message


class NotYetCheckpointed(DomainError):
    """A dossier needs the agreement's events covered by a signed checkpoint."""

    code = "NOT_YET_CHECKPOINTED"
