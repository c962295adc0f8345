"""Finding people by name although names are sealed at rest, on both databases: the
name index holds keyed hashes of the words of each name (never the words), finds a
person by any spelling of their name's words, and an erasure removes the person's rows
— also from a rebuild, which cannot open the erased name again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, select

from api.ports import Ports
from projections import queries as q
from projections.tables import ReadModel
from tests.e2e.conftest import Api, serving
from tests.e2e.test_erasure import Story, hits
from tests.processes import eventually


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    with serving(prepared_database_url) as served:
        yield served


def _found(ports: Ports, typed: str) -> list[str]:
    tokens = ports.reads.name_tokens(typed)
    return ports.reads.run(lambda conn, rm: q.people_named(conn, rm, tokens))


def _rows_of(ports: Ports, person_id: str) -> int:
    def read(conn: Connection, rm: ReadModel) -> int:
        t = rm.name_tokens
        query = select(func.count()).select_from(t).where(t.c.person_id == person_id)
        return int(conn.execute(query).scalar_one())

    return ports.reads.run(read)


def test_people_are_found_by_name_until_erased_also_after_a_rebuild(api: Api) -> None:
    story = Story(api)
    w, s = story.world, story.world.s
    ports = Ports.of(api.container)
    emp = w.ids["emp"]
    # "Zelda Quixote <s>": any order, any case, accents and extra spaces ignored.
    assert _found(ports, f"Zelda Quixote {s}") == [emp]
    assert _found(ports, f"  quixote   ZELDÁ {s} ") == [emp]
    assert _found(ports, f"Zelda Nobody {s}") == []  # every word must match
    assert _rows_of(ports, emp) == 3
    # The index holds hashes only: no word of the name is stored in clear.
    assert "name_tokens" not in " ".join(hits(api, ["Zelda", "zelda", "Quixote", "quixote"]))

    assert story.erase()["data"]["erasePerson"]["userErrors"] == []
    w.sync()
    assert eventually(lambda: _rows_of(ports, emp) == 0, 30)
    assert _found(ports, f"Zelda Quixote {s}") == []

    # A rebuild indexes everyone again from the events, but the erased name no longer
    # opens: it stays out; the others are found as before.
    api.container.rebuild()
    assert _rows_of(ports, emp) == 0
    assert _found(ports, f"Zelda Quixote {s}") == []
    assert _found(ports, f"mate {s}") == [w.ids["mate"]]
