from __future__ import annotations

import pytest

from domain.application import CraftingApplication
from tests.support import Org


@pytest.fixture
def org(memory_app: CraftingApplication) -> Org:
    return Org(memory_app)
