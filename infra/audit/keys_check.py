"""The data keys against the events: every subject whose key is gone must have been
erased by a recorded erasure (the key is destroyed in that event's transaction), and
every key still held must unwrap. What the hash chains cannot see: the key table is not
part of the log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from domain.person import Person
from infra.audit.store import Store
from infra.keystore import KeyStore, data_keys

ERASED_TOPIC = "Person.PersonErased"


@dataclass(frozen=True)
class KeyProblem:
    """A data key that is missing without an erasure (KEY_MISSING) or does not unwrap
    (KEY_DAMAGED: damaged, or a master key other than the one that wrapped it)."""

    subject_id: str
    key_id: str
    kind: str

    def describe(self) -> str:
        """One line for the operator."""
        if self.kind == "KEY_MISSING":
            return (
                f"DATA KEY MISSING: the key of {self.subject_id} (key id {self.key_id}) is "
                "gone, but no erasure of them is recorded: it was removed around the "
                "service; their data reads as [unreadable] (restore the key table from a backup)"
            )
        return (
            f"DATA KEY DAMAGED: the key of {self.subject_id} (key id {self.key_id}) does not "
            "unwrap with the master key: it was altered, or CRAFTING_MASTER_KEY is not the "
            "one it was made with; their data reads as [unreadable]"
        )


def verify_keys(store: Store, keys: KeyStore) -> tuple[int, list[KeyProblem]]:
    """Check every data key: how many, and the problems found."""
    problems: list[KeyProblem] = []
    checked = 0
    with (keys.reader or keys.engine).connect() as conn:
        rows = conn.execute(
            select(data_keys.c.subject_id, data_keys.c.key_id, data_keys.c.wrapped).order_by(
                data_keys.c.subject_id
            )
        ).all()
    for subject_id, key_id, wrapped in rows:
        checked += 1
        if wrapped is None:
            if not _erased(store, subject_id):
                problems.append(KeyProblem(subject_id, key_id, "KEY_MISSING"))
            continue
        if not keys.unwraps(key_id, subject_id, bytes(wrapped)):
            problems.append(KeyProblem(subject_id, key_id, "KEY_DAMAGED"))
    return checked, problems


def _erased(store: Store, subject_id: str) -> bool:
    """Whether the person's stream records their erasure."""
    events = store.recorder.select_events(Person.id_for(subject_id))
    return any(e.topic.endswith(ERASED_TOPIC) for e in events)
