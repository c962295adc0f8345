"""CPU of the whole ASGI app (middleware, routing, GraphQL, response) per mutation, the
command replaced by a prepared result: what the event loop spends around a command.

    python -m bench.app_layer [--calls 500] [--rounds 5]

Drives the app's ASGI callable directly (no server, no sockets) on an embedded SQLite
store, in `process_time` (and the event loop's own thread in `thread_time`), so other
processes' load moves it less. The command's thread hop stays (the mutation's resolver
runs `asyncio.to_thread`). Run it against another tree with `PYTHONPATH=<tree>
python <this tree>/bench/app_layer.py` to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from api.app import create_app
from api.graphql.ids import global_id
from api.http.auth import mint_token
from bench.commands_e2e import QUERIES
from bench.mutation_layer import PreparedCommands, prepared_agreement
from domain.application.commands import CommandResult
from domain.values import Role
from infra.bootstrap import bootstrap
from infra.settings import Settings


async def measure(app: Any, token: str, aid: str, calls: int, rounds: int) -> dict[str, float]:
    body = orjson.dumps(
        {
            "query": QUERIES["recordReview"],
            "variables": {"input": {"agreementId": aid, "outcome": "ON_TRACK", "notes": "Ok"}},
        }
    )
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def one() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }
        sent.clear()
        await app(scope, receive, send)

    await one()
    answer = orjson.loads(sent[-1]["body"])
    if answer.get("errors") or answer["data"]["recordReview"]["userErrors"]:
        raise RuntimeError(f"the mutation failed: {answer}")
    best: dict[str, float] = {}
    for _ in range(rounds):
        started, loop_started = time.process_time(), time.thread_time()
        for _ in range(calls):
            await one()
        ms = (time.process_time() - started) / calls * 1000
        loop_ms = (time.thread_time() - loop_started) / calls * 1000
        best["recordReview"] = min(best.get("recordReview", ms), ms)
        best["loop"] = min(best.get("loop", loop_ms), loop_ms)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the best is kept)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        secret = secrets.token_urlsafe(48)
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            jwt_secret=secret,
            rate_limit_per_second=0,
        )
        container = bootstrap(settings)
        try:
            app = create_app(container)
            logging.disable(logging.CRITICAL)  # the log line's formatting is not measured
            agreement = prepared_agreement()
            commands = PreparedCommands(CommandResult(position=42, agreement=agreement))
            container.app.execute = commands.execute  # type: ignore[method-assign]
            token = mint_token(secret, "mgr", [Role.MANAGER, Role.EMPLOYEE], timedelta(hours=1))
            aid = global_id("Agreement", str(agreement.id))
            best = asyncio.run(measure(app, token, aid, args.calls, args.rounds))
        finally:
            container.close()
    print(
        f"recordReview: {best['recordReview']:.3f} ms of CPU per request, the whole app "
        f"(best of {args.rounds}); the event loop's thread {best['loop']:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
