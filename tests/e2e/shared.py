"""One service for every test of a module: `from tests.e2e.shared import shared_api`
in a module makes its `api` fixture this one (on each database in turn), for modules
whose tests each make their own people and agreements under random ids (`World`) and
count nothing service-wide, so no test sees another's effects. Starting a service per
test (0.2-1 s, with a database copy) was most of these modules' time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Api, serving


@pytest.fixture(scope="module", name="api")
def shared_api(module_database_url: str) -> Iterator[Api]:
    with serving(module_database_url) as served:
        yield served
