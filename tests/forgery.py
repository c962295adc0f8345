"""What an attacker with write access to the database (and nothing else) can do to the
event store: append a copy of an event as a stream's next version, its chain link
recomputed, without the service's tag; or delete an event."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder

from domain.integrity import TAG_FIELD, event_hash, hashed_fields
from infra.bootstrap import Container


class RawStore:
    """Direct SQL on the events table."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.recorder: Any = container.app.recorder
        self.pg = isinstance(self.recorder, PostgresApplicationRecorder)
        name = self.recorder.events_table_name
        self.table = f'"{self.recorder.datastore.schema}"."{name}"' if self.pg else name
        self.position = "notification_id" if self.pg else "rowid"

    def run(self, sql: str, *params: Any) -> list[Any]:
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

    def append_forged_copy(self, stream: UUID) -> int:
        """Copy the stream's last event as its next version, `previous_hash` set to the
        last event's hash and no tag; its log position."""
        version, topic, state = self.run(
            "SELECT originator_version, topic, state FROM {t} WHERE originator_id = ? "
            "ORDER BY originator_version DESC LIMIT 1",
            self.key(stream),
        )[0]
        stored = self.container.app.mapper.transcoder.decode(bytes(state))
        forged = json.loads(bytes(state))
        forged.pop(TAG_FIELD, None)
        forged["previous_hash"] = event_hash(str(stream), version, topic, hashed_fields(stored))
        self.run(
            "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            self.key(stream),
            version + 1,
            topic,
            json.dumps(forged).encode(),
        )
        return int(self.container.app.recorder.max_notification_id() or 0)

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
