"""What a subscription may ask for: its URL's form, the event types, the team."""

from __future__ import annotations

from urllib.parse import urlsplit

from domain.agreement import events as ev
from domain.errors import InvalidInput, LimitReached
from domain.person import Person
from domain.values import optional_text, text

REVIEW_DUE = "review.due"
ALL = "*"
MAX_URL_LENGTH = 2000
MAX_EVENT_TYPES = 50
MOST_REDELIVERED_POSITIONS = 1_000_000  # per command; a larger range is split by the caller
MOST_SUBSCRIPTIONS = 20  # per owner, unless configured: each is sent every event it names


def deliverable_types() -> frozenset[str]:
    """Event types a subscription may name: agreement and directory events as
    `auditLog` names them, and the `review.due` reminder."""
    agreement = {cls.__name__ for cls in ev.AgreementEvent.__subclasses__()}
    directory = {Person.Registered.__name__, Person.ProfileChanged.__name__}
    return frozenset(agreement | directory | {REVIEW_DUE})


def subscription_url(value: str, *, allow_http: bool) -> str:
    """An absolute http(s) URL with a host and no credentials; https unless
    `allow_http` (development). Where it points is checked by the URL guard (infra)."""
    cleaned = text(value, "url", max_length=MAX_URL_LENGTH)
    try:
        parts = urlsplit(cleaned)
        port = parts.port
    except ValueError:
        raise InvalidInput("url is not a valid URL.", "url") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("url must be an absolute https URL.", "url")
    if parts.scheme == "http" and not allow_http:
        raise InvalidInput("url must use https (http is allowed only in development).", "url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry credentials; verify the signature instead.", "url")
    if port == 0:
        raise InvalidInput("url has an invalid port.", "url")
    if parts.fragment:
        raise InvalidInput("url must not have a fragment.", "url")
    return cleaned


def event_types(values: list[str]) -> list[str]:
    """The types asked for, deduplicated and sorted; `*` alone means all."""
    if not values:
        raise InvalidInput('Name at least one event type, or "*" for all.', "eventTypes")
    if len(values) > MAX_EVENT_TYPES:
        raise InvalidInput(f"Name at most {MAX_EVENT_TYPES} event types.", "eventTypes")
    wanted = {v.strip() for v in values}
    if ALL in wanted:
        if len(wanted) > 1:
            raise InvalidInput('"*" means all types: name no others with it.', "eventTypes")
        return [ALL]
    unknown = sorted(wanted - deliverable_types())
    if unknown:
        known = ", ".join(sorted(deliverable_types()))
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}; known types: {known}.", "eventTypes"
        )
    return sorted(wanted)


def room_for_another(held: int, most: int) -> None:
    """Refuse a subscription beyond `most` for one owner; `held` counts the new one too
    (its secret is reserved first, so concurrent creations see each other)."""
    if held > most:
        raise LimitReached(
            f"An integration may hold at most {most} webhook subscriptions; delete one it "
            'no longer needs (one subscription can name several event types, or "*").'
        )


def team(value: str | None) -> str | None:
    """An optional team filter."""
    return optional_text(value, "teamId", max_length=128)


def wants(event_types: list[str], type_name: str) -> bool:
    """Whether a subscription to `event_types` receives events of `type_name`."""
    return ALL in event_types or type_name in event_types


def redelivery_range(from_position: int, to_position: int) -> tuple[int, int]:
    """The log positions to deliver again, both included: from 1 on, at most
    MOST_REDELIVERED_POSITIONS apart."""
    if from_position < 1 or to_position < from_position:
        raise InvalidInput(
            "fromPosition must be at least 1 and at most toPosition.", "fromPosition"
        )
    if to_position - from_position > MOST_REDELIVERED_POSITIONS:
        raise InvalidInput(
            f"Redeliver at most {MOST_REDELIVERED_POSITIONS} positions at once.", "toPosition"
        )
    return from_position, to_position
