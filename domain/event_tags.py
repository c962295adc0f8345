"""Events that prove the service wrote them.

The hash chains make history tamper-evident only up to the last signed checkpoint:
whoever can write the database can append an event after it with a correctly
recomputed `previous_hash`, and the next checkpoint would cover it. So every event is
stored with a tag, HMAC-SHA256 of its hash under a key only the service holds (derived
from the checkpoint signing key). The checkpoint sealer and the projector accept an
event only with a valid tag; one without raises an integrity alarm and is never checkpointed
or shown. The tag is kept beside the event's fields (`_tag`), outside what its hash
covers, so chains, checkpoints and exports are unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from copy import copy
from functools import partial
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from domain.agreement.snapshot import PACKED
from domain.integrity import TAG_FIELD, event_hash, hashed_fields
from domain.packing import OpenedRows, SealedRows
from domain.sealing import Keys, opened_all
from domain.sealing import stored as as_stored

_ESCAPED = "\\u001es1."  # an envelope's start, as JSON writes it
_SEALED = _ESCAPED.encode()


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
        keys: Keys | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.key = key
        self.keys = keys  # opens what events hold sealed (domain.sealing)

    def keeping_sealed(self) -> TaggingMapper:
        """This mapper, reading sealed values as their envelopes (plain strings), for
        readers that only pass them on: the projector writes them as they are stored, so
        it needs no keys and spends nothing on opening."""
        twin = copy(self)
        twin.keys = None
        return twin

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        state = as_stored(vars(domain_event))  # sealed values as their envelopes
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
        state = vars(domain_event)
        state.pop(TAG_FIELD, None)
        if self.keys is not None and (
            self.compressor or self.cipher or _SEALED in stored_event.state
        ):
            for name, value in state.items():
                if name == "state" and isinstance(value, dict):  # a snapshot's fields
                    state[name] = self._opened_fields(value)
                else:
                    state[name] = opened_all(value, self.keys)
        return domain_event

    def _opened_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        assert self.keys is not None
        return {
            name: self.opened_rows(value)
            if isinstance(value, str) and name in PACKED
            else opened_all(value, self.keys)
            for name, value in fields.items()
        }

    def opened_rows(self, packed: str) -> str | OpenedRows:
        """Packed records (a snapshot's, or a stored chunk's): those that hold sealed
        values parsed, to be opened with these keys as each becomes a record
        (domain.packing keeps them as rows); the others as they are."""
        if self.keys is None or _ESCAPED not in packed:
            return packed
        return SealedRows(orjson.loads(packed), partial(opened_all, keys=self.keys))
