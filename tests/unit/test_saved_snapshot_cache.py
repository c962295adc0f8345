"""A command's saved agreement is cached for the next command (CraftingApplication.
_keep_saved), except when its save took a snapshot: the cache then drops the agreement,
so it is loaded again from that snapshot and what a command copies stays bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.agreement.snapshot import takes_snapshot_at
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.application.replay import ReplayingRepository
from infra.persistence import eventsourcing_env
from tests.support import Org


@pytest.fixture
def cached_app() -> Iterator[CraftingApplication]:
    """On SQLite in memory, with the service's aggregate cache and snapshots."""
    app = CraftingApplication(env=eventsourcing_env("sqlite:///:memory:"), snapshot_key=b"k" * 32)
    yield app
    app.close()


def test_an_agreement_saved_with_a_snapshot_is_not_cached(cached_app: CraftingApplication) -> None:
    org = Org(cached_app)
    agreement = org.active()
    cache = cached_app.repository.cache
    assert cache is not None and cached_app.snapshots is not None
    review = c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes="ok")
    version = agreement.version
    while not takes_snapshot_at(version):
        version = org.run(org.manager, review).version
        if not takes_snapshot_at(version):
            assert cache.get(agreement.id).version == version  # the saved one, cached
    with pytest.raises(KeyError):
        cache.get(agreement.id)
    after = org.run(org.manager, review)
    cached = cache.get(agreement.id)
    assert cached.version == after.version
    assert cached == ReplayingRepository(cached_app.events).get(agreement.id)
