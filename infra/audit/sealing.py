"""Signed checkpoints: a Merkle root over the log up to a position, signed with the
service's key, sealed now (`seal`) or every few seconds (`Sealing`, a dispatcher of the
follower `sealer`)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from domain.event_tags import tag_valid
from domain.integrity import Checkpoint, MerkleFrontier, checkpoint_message
from infra.alarms import raise_alarm
from infra.audit.store import (
    UNTAGGED_EVENT,
    Store,
    checkpoints,
    record_hash,
    report_forged_event,
)
from infra.signing import public_key_b64, sign, tag_key

log = logging.getLogger(__name__)


def seal(store: Store, key: Ed25519PrivateKey) -> Checkpoint | None:
    """Record a signed checkpoint over the whole log up to its current end; None when
    nothing was written since the last one. Extends the last frontier: O(new events)."""
    last = store.latest_checkpoint()
    head = store.recorder.max_notification_id() or 0
    start = 0 if last is None else int(last["position"])
    if head <= start:
        return None
    tree = MerkleFrontier() if last is None else MerkleFrontier(last["size"], last["peaks"])
    events_key = tag_key(key, "events")
    sealed_up_to = start
    for record in store.records(start, head):
        digest = record_hash(record)
        if not tag_valid(events_key, digest, record.tag):
            report_forged_event(record)
            with store.engine.begin() as conn:
                raise_alarm(
                    conn,
                    UNTAGGED_EVENT,
                    f"position {record.position}",
                    f"The event at position {record.position} (stream {record.stream}, "
                    f"version {record.version}) does not carry the service's tag: it was "
                    "written around the service. Nothing from it on is sealed; no follower "
                    "acts on it. Run `crafting verify`.",
                )
            break  # a checkpoint covers a prefix of the log: nothing past this one
        tree.append(digest)
        sealed_up_to = record.position
    if sealed_up_to == start:
        return None
    head = sealed_up_to
    recorded_at = datetime.now(UTC).isoformat()
    root = tree.root()
    signature = sign(key, checkpoint_message(head, tree.size, root, recorded_at))
    try:
        with store.engine.begin() as conn:
            conn.execute(
                checkpoints.insert().values(
                    position=head,
                    size=tree.size,
                    root=root,
                    peaks=tree.state(),
                    recorded_at=recorded_at,
                    signature=signature,
                    public_key=public_key_b64(key),
                )
            )
    except IntegrityError:
        return None  # another process sealed the same position first
    return Checkpoint(head, tree.size, root, recorded_at, signature)


class Sealing:
    """Seals a checkpoint every `interval` seconds while new events arrive (the
    follower `sealer` calls it; only its leader seals)."""

    name = "sealer"

    def __init__(self, store: Store, key: Ed25519PrivateKey, interval: float) -> None:
        self.store, self.key, self.interval = store, key, interval
        self._next = time.monotonic() + interval

    def dispatch(self) -> float:
        """Seal when the interval has passed; the seconds until the next seal."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            seal(self.store, self.key)
        return self._next - now
