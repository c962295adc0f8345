"""`crafting projector` that pauses inside each batch's transaction, after the read
tables are written and before the position is: a crash test kills it in that window.
Test-only, so the fault injection is no setting of the service.

    python -m tests.paused_projector SECONDS   (environment as for `crafting projector`)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from api.cli import main as cli
from infra.followers import read_models
from projections.projector import BatchProjector


def paused(seconds: float) -> type[BatchProjector]:
    """A projector whose incremental batches wait `seconds` once written."""

    class PausedProjector(BatchProjector):
        def apply(self, items: Sequence[tuple[int, Any]]) -> None:
            super().apply(items)
            time.sleep(seconds)

    return PausedProjector


if __name__ == "__main__":
    # The projector applies each batch with BatchProjector(...).apply and sets the position
    # after it in the same transaction, so the pause falls between the two.
    read_models.BatchProjector = paused(float(sys.argv[1]))  # type: ignore[misc]
    sys.argv = ["crafting", "projector"]
    cli.main()
