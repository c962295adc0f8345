"""Which dossiers were issued of an agreement, to whom and of what: one register per
agreement, beside its stream (not in it: issuing a dossier changes nothing of the
agreement, so its version, expected versions and timeline stay as they were), each issue
an event like any other, in the audit log under the agreement.

An issue records ids and digests only: who received it, the version and hash of the
agreement's last event it shows, the checkpoint that covers it and the SHA-256 of the
facts it prints, so a dossier shown later can be matched to its issue.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.metadata import ChainedAggregate, Meta, RecordedEvent

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:crafting:dossier-register")


class DossierRegister(ChainedAggregate):
    class RegisterOpened(RecordedEvent, Aggregate.Created):
        agreement_id: str

    class DossierIssued(RecordedEvent):
        agreement_id: str
        issued_to: str  # the person who asked for it (the event's actor)
        agreement_version: int
        last_event_hash: str
        checkpoint_position: int
        facts_digest: str

        def apply(self, register: DossierRegister) -> None:
            register.issued += 1

    def __init__(self, agreement_id: str) -> None:
        self.agreement_id = agreement_id
        self.issued = 0

    @staticmethod
    def id_for(agreement_id: UUID) -> UUID:
        return uuid5(_NAMESPACE, str(agreement_id))

    @classmethod
    def open(cls, agreement_id: UUID, meta: Meta) -> DossierRegister:
        """The register of an agreement's dossiers, before its first issue."""
        register: DossierRegister = cls._create(
            cls.RegisterOpened,
            id=cls.id_for(agreement_id),
            agreement_id=str(agreement_id),
            **meta.event_fields(),
        )
        return register

    def issue(
        self,
        meta: Meta,
        *,
        agreement_version: int,
        last_event_hash: str,
        checkpoint_position: int,
        facts_digest: str,
    ) -> None:
        """Record that a dossier was issued to the actor of `meta`."""
        self.trigger_event(
            self.DossierIssued,
            agreement_id=self.agreement_id,
            issued_to=meta.actor_id,
            agreement_version=agreement_version,
            last_event_hash=last_event_hash,
            checkpoint_position=checkpoint_position,
            facts_digest=facts_digest,
            **meta.event_fields(),
        )
