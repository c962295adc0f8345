"""Where a web page's time goes, in-process and one request at a time: per page, the
SQL statements, transactions and pool checkouts each request makes, its wall and CPU
time, and the time spent in SQL statements (from sending one to its answer, on the
request's threads). The same seeding as `bench.web_pages`
(a manager with `--reports` reports, an agreement of `--events` events).

    python -m bench.web_profile [--reports 500] [--events 300] [--requests 60]
        [--database-url postgresql://...]

The followers (projector, webhooks, notifications) run in threads of their own and
use the same engines: only the statements, transactions and checkouts made on the
request's threads (the test client's and the thread pool's) are counted.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from api.app import create_app
from api.web.sessions import mint_link
from bench.time_travel import _database, _history, drop_schema
from bench.web_pages import analyze, caught_up, seed_reports
from domain.values import Role
from infra.bootstrap import bootstrap
from infra.settings import Settings

FOLLOWERS = ("projections", "webhook", "follower-", "mail", "read-replicas")


class Tally:
    """What the request's threads did on every engine and pool."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.sql_seconds = 0.0
        self.seconds: Counter[str] = Counter()  # per statement
        self._started = threading.local()

    def _mine(self) -> bool:
        return not threading.current_thread().name.startswith(FOLLOWERS)

    def statement(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if self._mine():
            self.counts["statements"] += 1
            key = " ".join(sql.split())[:100]
            self.statements[key] += 1
            self._started.at, self._started.key = time.perf_counter(), key

    def answered(self, *_: Any) -> None:
        started = getattr(self._started, "at", None)
        if started is not None:
            took = time.perf_counter() - started
            self.sql_seconds += took
            self.seconds[self._started.key] += took
            self._started.at = None

    def begin(self, _conn: Any) -> None:
        if self._mine():
            self.counts["transactions"] += 1

    def checkout(self, *_: Any) -> None:
        if self._mine():
            self.counts["checkouts"] += 1


@contextmanager
def tallied(tally: Tally) -> Iterator[None]:
    """Count on every engine and pool of the process while inside."""
    hooks: list[tuple[Any, str, Callable[..., None]]] = [
        (Engine, "before_cursor_execute", tally.statement),
        (Engine, "after_cursor_execute", tally.answered),
        (Engine, "begin", tally.begin),
        (Pool, "checkout", tally.checkout),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


def measure(client: TestClient, path: str, requests: int) -> None:
    for _ in range(5):  # warm: connections, caches, templates
        assert client.get(path).status_code == 200
    tally = Tally()
    wall, cpu = time.perf_counter(), time.process_time()
    with tallied(tally):
        for _ in range(requests):
            assert client.get(path).status_code == 200
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per = {k: v / requests for k, v in tally.counts.items()}
    print(
        f"\n{path}: {1000 * wall / requests:.1f} ms wall, {1000 * cpu / requests:.1f} ms CPU "
        f"per request; SQL {1000 * tally.sql_seconds / requests:.1f} ms in "
        f"{per.get('statements', 0):.1f} statements, {per.get('transactions', 0):.1f} "
        f"transactions, {per.get('checkouts', 0):.1f} pool checkouts"
    )
    for sql, n in tally.statements.most_common():
        print(f"  {n / requests:5.1f} x {1000 * tally.seconds[sql] / requests:6.2f} ms  {sql}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args(argv)
    url = _database(args.database_url)
    secret = secrets.token_urlsafe(32)
    try:
        settings = Settings(database_url=url, jwt_secret=secret, rate_limit_per_second=0)
        container = bootstrap(settings)
        print(f"Seeding {args.reports} reports and a {args.events}-event agreement ...")
        team, long_id = _history(container, args.events)
        seed_reports(team, args.reports)
        head = container.app.recorder.max_notification_id() or 0
        container.close()
        container = bootstrap(
            Settings(
                database_url=url, jwt_secret=secret, rate_limit_per_second=0, serve_projections=True
            )
        )
        try:
            with TestClient(create_app(container)) as client:
                caught_up(url, head)
                if args.database_url:
                    analyze(url)
                link = mint_link(secret, team.manager.actor.id, [Role.MANAGER, Role.EMPLOYEE])
                assert client.post(f"/login/{link}", follow_redirects=False).status_code == 303
                page = f"/agreements/{UUID(str(long_id))}"
                # The inbox twice: the followers may still be busy during the first.
                for path in ("/inbox", page, "/inbox"):
                    measure(client, path, args.requests)
        finally:
            container.close()
    finally:
        if args.database_url:
            drop_schema(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
