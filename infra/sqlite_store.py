"""The SQLite event store as this service runs it: an insert may also destroy data keys
in its own transaction (erasure: infra.keystore)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory

from infra.keystore import data_keys, destroy_on


class ErasingApplicationRecorder(SQLiteApplicationRecorder):
    """Inserts events, and destroys the keys `destroy_keys` names in the same
    transaction (`CraftingApplication.save(..., destroy_keys=…)`)."""

    destroys_keys = True

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        subjects = kwargs.get("destroy_keys", ())
        if subjects:
            destroy_on(c, subjects, table=data_keys.name, placeholder="?")
        return positions


class CraftingSQLiteFactory(SQLiteFactory):
    """`PERSISTENCE_MODULE` for SQLite: the recorder above."""

    application_recorder_class = ErasingApplicationRecorder
