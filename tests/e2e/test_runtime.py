"""A serving process tunes the cyclic collector while it runs (infra.runtime)."""

from __future__ import annotations

import gc
from pathlib import Path

from infra.runtime import GC_YOUNG_THRESHOLD
from tests.e2e.conftest import serving


def test_the_collector_is_tuned_while_serving_and_restored_after(tmp_path: Path) -> None:
    before = gc.get_threshold()
    with serving(f"sqlite:///{tmp_path}/crafting.db") as api:
        assert api.client.get("/healthz").status_code == 200
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
