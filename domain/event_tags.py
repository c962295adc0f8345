"""Events that prove the service wrote them.

The hash chains make history tamper-evident only up to the last signed checkpoint:
whoever can write the database can append an event after it with a correctly
recomputed `previous_hash`, and the next checkpoint would seal it. So every event is
stored with a tag, HMAC-SHA256 of its hash under a key only the service holds (derived
from the checkpoint signing key). The checkpoint sealer and the projector accept an
event only with a valid tag; one without raises an integrity alarm and is never sealed
or shown. The tag is kept beside the event's fields (`_tag`), outside what its hash
covers, so chains, checkpoints and exports are unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from domain.integrity import TAG_FIELD, event_hash, hashed_fields


def event_tag(key: bytes, event_hash_hex: str) -> str:
    """The tag of an event, from its hash."""
    return hmac.new(key, bytes.fromhex(event_hash_hex), hashlib.sha256).hexdigest()


def tag_valid(key: bytes, event_hash_hex: str, given: Any) -> bool:
    """Whether `given` is the tag of the event with this hash."""
    return isinstance(given, str) and hmac.compare_digest(given, event_tag(key, event_hash_hex))


class TaggingMapper(Mapper[UUID]):
    """The library's mapper (9.5's `to_stored_event`, plus the tag in the stored
    state when it has a key), leaving the tag out of every domain event it reads back —
    also without a key, so what a process reads never depends on whether it holds one."""

    def __init__(
        self,
        transcoder: Transcoder,
        key: bytes | None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.key = key

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if self.key is not None:
            fields = hashed_fields(state)
            digest = event_hash(str(originator_id), originator_version, topic, fields)
            state[TAG_FIELD] = event_tag(self.key, digest)
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(originator_id, originator_version, topic, stored)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        vars(domain_event).pop(TAG_FIELD, None)
        return domain_event
