"""Idempotency keys, persisted as aggregates saved atomically with the command's
events: a key is taken exactly when the command's events are recorded, and a
concurrent second use of the key loses on the record's version."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.metadata import ChainedAggregate, Meta, RecordedEvent

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:crafting:idempotency-key")


class IdempotencyRecord(ChainedAggregate):
    class Recorded(RecordedEvent, Aggregate.Created):
        command: str
        fingerprint: str
        agreement_id: str | None
        agreement_version: int | None
        person_ids: list[str]
        # A webhook subscription command's. Records stored before these fields existed
        # read them as the class defaults (stored state is not re-hashed with them).
        subscription_id: str | None = None
        subscription_version: int | None = None

    def __init__(
        self,
        command: str,
        fingerprint: str,
        agreement_id: str | None,
        agreement_version: int | None,
        person_ids: list[str],
        subscription_id: str | None = None,
        subscription_version: int | None = None,
    ) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.agreement_id = agreement_id
        self.agreement_version = agreement_version
        self.person_ids = person_ids
        self.subscription_id = subscription_id
        self.subscription_version = subscription_version

    @staticmethod
    def id_for(actor_id: str, key: str) -> UUID:
        return uuid5(_NAMESPACE, f"{actor_id}\x00{key}")

    @classmethod
    def record(
        cls,
        key: str,
        command: str,
        fingerprint: str,
        meta: Meta,
        agreement_id: UUID | None = None,
        agreement_version: int | None = None,
        person_ids: list[str] | None = None,
        subscription_id: UUID | None = None,
        subscription_version: int | None = None,
    ) -> IdempotencyRecord:
        created: IdempotencyRecord = cls._create(
            cls.Recorded,
            id=cls.id_for(meta.actor_id, key),
            command=command,
            fingerprint=fingerprint,
            agreement_id=None if agreement_id is None else str(agreement_id),
            agreement_version=agreement_version,
            person_ids=person_ids or [],
            subscription_id=None if subscription_id is None else str(subscription_id),
            subscription_version=subscription_version,
            **meta.event_fields(),
        )
        return created
