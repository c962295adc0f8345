"""Alarms live in the database: raised once per open (kind, subject), visible to every
process, resolved with who and why, raised anew after that."""

from __future__ import annotations

import threading

from infra.alarms import open_alarm_counts, open_alarms, raise_alarm, resolve_alarm
from infra.bootstrap import Container


def test_an_alarm_is_open_once_until_resolved(container: Container) -> None:
    container.prepare()
    engine = container.engines.writer
    with engine.begin() as conn:
        assert raise_alarm(conn, "event.untagged", "position 7", "no tag")
        assert not raise_alarm(conn, "event.untagged", "position 7", "again")
        assert raise_alarm(conn, "event.untagged", "position 8", "no tag")
    with container.engines.reader.connect() as conn:
        alarms = open_alarms(conn)
        assert [(a.kind, a.subject, a.detail) for a in alarms] == [
            ("event.untagged", "position 7", "no tag"),
            ("event.untagged", "position 8", "no tag"),
        ]
        assert open_alarm_counts(conn) == {"event.untagged": 2}
    with engine.begin() as conn:
        assert resolve_alarm(conn, "event.untagged", "position 7", "ops", "restored from backup")
        assert not resolve_alarm(conn, "event.untagged", "position 7", "ops", "twice")
    with engine.begin() as conn:
        assert [a.subject for a in open_alarms(conn)] == ["position 8"]
        assert raise_alarm(conn, "event.untagged", "position 7", "seen again")
        assert len(open_alarms(conn)) == 2


def test_raising_from_many_writers_at_once_opens_one(container: Container) -> None:
    container.prepare()
    barrier = threading.Barrier(6)
    opened: list[bool] = []

    def raise_it() -> None:
        barrier.wait()
        for _ in range(5):
            with container.engines.writer.begin() as conn:
                opened.append(raise_alarm(conn, "follower.stalled", "webhooks", "stuck"))

    threads = [threading.Thread(target=raise_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened.count(True) == 1
    with container.engines.reader.connect() as conn:
        assert open_alarm_counts(conn) == {"follower.stalled": 1}
