"""Direct changes to the stored events, as an attacker with database write access (and
nothing else) makes them: the same kinds for `crafting verify`, `verifyIntegrity`, the
web badge and the followers (which must not act on an event the service did not write).
The one raw-SQL helper of the tests: every row it returns is a tuple, on both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder

from domain.integrity import TAG_FIELD, event_hash, hashed_fields
from infra.bootstrap import Container


class Raw:
    """Direct SQL on the events table, as an attacker with database access would."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.recorder: Any = container.app.recorder
        self.transcoder = container.app.mapper.transcoder
        self.pg = isinstance(self.recorder, PostgresApplicationRecorder)
        name = self.recorder.events_table_name
        self.table = f'"{self.recorder.datastore.schema}"."{name}"' if self.pg else name
        self.position = "notification_id" if self.pg else "rowid"

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run `sql` ({t}: the events table, {pos}: its position column, ?: a parameter)
        in its own transaction; its rows as tuples (PostgreSQL's come as dicts)."""
        sql = sql.format(t=self.table, pos=self.position)
        if self.pg:
            sql = sql.replace("?", "%s")
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql, params)
            try:
                rows = cursor.fetchall()
            except Exception:  # statements without rows
                return []
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]

    def key(self, stream: UUID) -> Any:
        return stream if self.pg else stream.hex

    def state(self, stream: UUID, version: int) -> bytes:
        rows = self.run(
            "SELECT state FROM {t} WHERE originator_id = ? AND originator_version = ?",
            self.key(stream),
            version,
        )
        return bytes(rows[0][0])

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self.run(
            "UPDATE {t} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            state,
            self.key(stream),
            version,
        )

    def topic(self, stream: UUID, version: int) -> str:
        ((topic,),) = self.run(
            "SELECT topic FROM {t} WHERE originator_id = ? AND originator_version = ?",
            self.key(stream),
            version,
        )
        return str(topic)

    def last_version(self, stream: UUID) -> int:
        ((version,),) = self.run(
            "SELECT max(originator_version) AS v FROM {t} WHERE originator_id = ?",
            self.key(stream),
        )
        return int(version)

    def hash_of(self, stream: UUID, version: int) -> str:
        """The event's hash as stored now (what the next version's link must name)."""
        fields = hashed_fields(self.transcoder.decode(self.state(stream, version)))
        return event_hash(str(stream), version, self.topic(stream, version), fields)

    def edit(self, stream: UUID, version: int, **changes: Any) -> None:
        """Change fields of a stored event (its tag left as it was)."""
        state = json.loads(self.state(stream, version))
        state.update(changes)
        self.set_state(stream, version, json.dumps(state, separators=(",", ":")).encode())

    def insert(self, stream: UUID, version: int, topic: str, state: dict[str, Any]) -> None:
        self.run(
            "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            self.key(stream),
            version,
            topic,
            json.dumps(state, separators=(",", ":")).encode(),
        )

    def head(self) -> int:
        """The log's last position."""
        return int(self.recorder.max_notification_id() or 0)

    def delete(self, position: int) -> None:
        """Delete the event at `position` from the log."""
        self.run("DELETE FROM {t} WHERE {pos} = ?", position)

    def backdate_and_untag(self, position: int, timestamp: str) -> None:
        """Edit the event at `position` in place: its time set to `timestamp` (ISO), its
        tag dropped (whoever lacks the key cannot make a new one)."""
        ((state,),) = self.run("SELECT state FROM {t} WHERE {pos} = ?", position)
        edited = json.loads(bytes(state))
        edited.pop(TAG_FIELD, None)
        edited["timestamp"]["_data_"] = timestamp
        self.run("UPDATE {t} SET state = ? WHERE {pos} = ?", json.dumps(edited).encode(), position)


def edit_last(raw: Raw, stream: UUID) -> None:
    """The last event edited in place."""
    raw.edit(stream, raw.last_version(stream), actor_id="someone-else")


def edit_middle_rechained(raw: Raw, stream: UUID) -> None:
    """Version 2 edited, and every later link recomputed so that the chain holds."""
    raw.edit(stream, 2, actor_id="someone-else", reason="FORGED")
    for version in range(3, raw.last_version(stream) + 1):
        raw.edit(stream, version, previous_hash=raw.hash_of(stream, version - 1))


def edit_middle(raw: Raw, stream: UUID) -> None:
    """Version 2 edited in place (the later links left as they were)."""
    raw.edit(stream, 2, actor_id="someone-else")


def forged_tail_with_copied_tag(raw: Raw, stream: UUID) -> None:
    """Like `forged_tail`, with the tag of the last real event copied onto it."""
    last = raw.last_version(stream)
    forged = json.loads(raw.state(stream, last))
    forged["previous_hash"] = raw.hash_of(stream, last)
    forged["actor_id"] = "FORGED: approved by the VP"
    raw.insert(stream, last + 1, raw.topic(stream, last), forged)


def forged_tail(raw: Raw, stream: UUID) -> None:
    """A copy of the last event appended as the next version, linked to the stream's
    last hash, without the service's tag."""
    last = raw.last_version(stream)
    forged = json.loads(raw.state(stream, last))
    forged.pop(TAG_FIELD, None)
    forged["previous_hash"] = raw.hash_of(stream, last)
    forged["actor_id"] = "FORGED: approved by the VP"
    raw.insert(stream, last + 1, raw.topic(stream, last), forged)


def delete_middle(raw: Raw, stream: UUID) -> None:
    """Version 2 deleted."""
    raw.run("DELETE FROM {t} WHERE originator_id = ? AND originator_version = 2", raw.key(stream))


def delete_last(raw: Raw, stream: UUID) -> None:
    """The last event deleted (the chain of what is left holds)."""
    raw.run(
        "DELETE FROM {t} WHERE originator_id = ? AND originator_version = ?",
        raw.key(stream),
        raw.last_version(stream),
    )


def reorder(raw: Raw, stream: UUID) -> None:
    """Versions 2 and 3 swapped."""
    second, third = raw.state(stream, 2), raw.state(stream, 3)
    raw.set_state(stream, 2, third)
    raw.set_state(stream, 3, second)


# Each kind, and the first version a per-agreement check must name.
TAMPERS: dict[str, tuple[Callable[[Raw, UUID], None], Callable[[int], int]]] = {
    "edited last event": (edit_last, lambda last: last),
    "edited middle event": (edit_middle, lambda _: 2),
    "edited middle event, chain recomputed": (edit_middle_rechained, lambda _: 2),
    "forged untagged tail": (forged_tail, lambda last: last + 1),
    "forged tail with a copied tag": (forged_tail_with_copied_tag, lambda last: last + 1),
    "deleted event": (delete_middle, lambda _: 2),
    "deleted last event": (delete_last, lambda last: last),
    "reordered events": (reorder, lambda _: 2),
}
