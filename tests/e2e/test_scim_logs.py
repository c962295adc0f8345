"""SCIM's error paths log no personal data: a failing statement's parameters (an e-mail
address) are in no log line, no traceback and no response, and a refused request is
logged by its status and SCIM type, not by the detail that quotes the input."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.http.logs import JsonFormatter
from api.scim import storage
from tests.e2e.conftest import Api
from tests.e2e.scim import error_of, integration, user

ADDRESS = "kofi.private.mensah@example.com"


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as the service writes it (JSON) and as a plain handler would,
    tracebacks included."""
    formatter = JsonFormatter()
    json_lines = [formatter.format(r) for r in caplog.records]
    return caplog.text + "\n".join(json_lines)


def test_a_failing_statement_logs_and_answers_without_its_parameters(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    scim = integration(api)
    created = scim.request("POST", "/Users", user(scim.id("kofi"), emails=[{"value": ADDRESS}]))
    assert created.status_code == 201
    person = created.json()["id"]

    def failing(conn: Connection, *_: Any) -> Any:
        # A real statement that fails in the database, with the address as a parameter.
        return conn.execute(
            text("SELECT x FROM no_such_table WHERE y = :email"), {"email": ADDRESS}
        )

    monkeypatch.setattr(storage.d, "directory_person", failing)
    caplog.set_level(logging.DEBUG)
    response = scim.request("GET", f"/Users/{person}")
    body = error_of(response, 500)
    assert ADDRESS not in response.text and "no_such_table" not in json.dumps(body)
    failed = [r for r in caplog.records if r.name == "crafting.scim" and r.levelname == "ERROR"]
    assert failed and failed[0].exc_info is not None  # the operator still learns where
    # As the service writes its logs (JSON): the error's type and where, no message.
    service_lines = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "DataError" in service_lines or "Error" in service_lines
    assert "no_such_table" not in service_lines
    # As any other handler would (tracebacks rendered): the statement, never its values.
    logged = _everything_logged(caplog)
    assert ADDRESS not in logged and "kofi.private" not in logged


def test_a_refused_request_is_logged_without_the_input_it_quotes(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    scim = integration(api)
    caplog.set_level(logging.DEBUG)
    refused = scim.request("POST", "/Users", user(scim.id("x"), emails=[{"value": "kofi@@x"}]))
    assert refused.status_code == 400
    logged = _everything_logged(caplog)
    assert "kofi@@x" not in logged
    assert any(getattr(r, "status", None) == 400 for r in caplog.records)
