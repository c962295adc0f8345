"""Signed checkpoints: a Merkle root over the log up to a position, signed with the
service's key, signed now (`sign_checkpoint`) or every few seconds (`Checkpointing`, a
dispatcher of the follower `sealer`, a name kept because positions and /metrics carry it)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from domain.event_tags import tag_valid
from domain.integrity import Checkpoint, MerkleFrontier, checkpoint_message
from infra.alarms import raise_alarm
from infra.audit import merkle_index
from infra.audit.store import (
    UNTAGGED_EVENT,
    Store,
    checkpoints,
    keep_alarm,
    record_hash,
    report_forged_event,
)
from infra.signing import public_key_b64, sign, tag_key

log = logging.getLogger(__name__)


def sign_checkpoint(store: Store, key: Ed25519PrivateKey) -> Checkpoint | None:
    """Record a signed checkpoint over the whole log up to its current end; None when
    nothing was written since the last one. Extends the last frontier: O(new events)."""
    last = store.latest_checkpoint()
    if last is not None:
        index_checkpointed(store, last)
    else:  # no checkpoint yet: an index left from removed checkpoints proves nothing
        with store.engine.begin() as conn:
            merkle_index.clear(conn)
    head = store.recorder.max_notification_id() or 0
    start = 0 if last is None else int(last["position"])
    if head <= start:
        return None
    tree = MerkleFrontier() if last is None else MerkleFrontier(last["size"], last["peaks"])
    events_key = tag_key(key, "events")
    covered_up_to = start
    growth = merkle_index.Growth()
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
                    "written around the service. No checkpoint covers it or anything after "
                    "it; no follower acts on it. Run `crafting verify`.",
                )
            break  # a checkpoint covers a prefix of the log: nothing past this one
        growth.add(tree, record, digest)
        covered_up_to = record.position
    if covered_up_to == start:
        return None
    head = covered_up_to
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
            growth.write(conn)  # with the checkpoint, or not at all
    except IntegrityError:
        return None  # another process signed the same position (or these leaves) first
    return Checkpoint(head, tree.size, root, recorded_at, signature)


def index_checkpointed(store: Store, last: dict[str, Any]) -> None:
    """Build the Merkle index up to the latest checkpoint when it lags behind (a store
    checkpointed before the index existed): once, from the log as stored now. An event edited
    since it was checkpointed then fails its proof, as it should."""
    size = int(last["size"])
    with store.engine.connect() as conn:
        if merkle_index.indexed_size(conn) == size:
            return
    tree, growth = MerkleFrontier(), merkle_index.Growth()
    for record in store.records(0, int(last["position"])):
        growth.add(tree, record, record_hash(record))
    if (tree.size, tree.root()) != (size, last["root"]):
        log.error(
            "integrity alarm: the events up to the checkpoint at position %s no longer hash "
            "to its signed root (run `crafting verify`); proofs of the edited agreements fail",
            last["position"],
        )
        keep_alarm(
            store.engine,
            "integrity.root",
            f"checkpoint {last['position']}",
            f"The events up to the checkpoint at position {last['position']} no longer hash "
            "to its signed root: checkpointed events were edited, inserted or deleted. Run "
            "`crafting verify`.",
        )
    try:
        with store.engine.begin() as conn:
            merkle_index.clear(conn)
            growth.write(conn)
    except IntegrityError:
        return  # another process built it at the same time


class Checkpointing:
    """Signs a checkpoint every `interval` seconds while new events arrive (the
    follower `sealer` calls it; only its leader signs)."""

    name = "sealer"

    def __init__(self, store: Store, key: Ed25519PrivateKey, interval: float) -> None:
        self.store, self.key, self.interval = store, key, interval
        self._next = time.monotonic() + interval

    def dispatch(self) -> float:
        """Sign a checkpoint when the interval has passed; the seconds until the next one."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            sign_checkpoint(self.store, self.key)
        return self._next - now
