"""The web app under load: the manager's inbox over 500 reports' agreements, the
manager's page of a 10,000-event agreement, and the first page of its timeline,
rendered by a real `crafting serve` for several signed-in browsers at once. Beside
each page, in the same run and against the same server, the GraphQL query that
reads the same data (what an HRIS screen would send instead).
Target: p95 under 100 ms for each page.

    python -m bench.web_pages [--reports 500] [--events 10000] [--clients 1,4]
        [--seconds 15] [--timeout 30] [--database-url postgresql://...]

A page that does not answer within --timeout seconds is reported as such (its
figures are then missing), not as the run's failure: a long agreement's page once took
longer than any timeout worth waiting for.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg

from api.graphql.ids import global_id
from api.http.auth import mint_token
from api.web.sessions import mint_link
from bench.commands_e2e import cpu_seconds, serving
from bench.team import GUARDRAILS, Team, draft
from bench.time_travel import _database, _history, drop_schema
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Role
from infra.bootstrap import bootstrap
from infra.database import create_engines
from infra.followers import positions
from infra.read_routing import PROJECTOR
from infra.settings import Settings

UPSERT_CHUNK = 100
GOAL = CareerGoal("Product manager", ("customer research",))

INBOX_QUERY = """
query Inbox($manager: String!, $before: Date!, $since: DateTime!) {
  proposed: agreements(first: 100, filter: {managerId: $manager, status: PROPOSED}) {
    edges { node { id title status version updatedAt employee { displayName } } }
  }
  changes: agreements(first: 100, filter: {managerId: $manager, status: CHANGES_REQUESTED}) {
    edges { node { id title status version updatedAt employee { displayName } } }
  }
  due: reviewsDue(before: $before, managerId: $manager, first: 100) {
    edges { node { id title nextReviewOn employee { displayName } } }
  }
  recent: agreements(first: 20, filter: {managerId: $manager, updatedSince: $since}) {
    edges { node { id title status updatedAt employee { displayName } } }
  }
}
"""

TIMELINE_QUERY = """
query Timeline($id: ID!) {
  auditLog(first: 50, filter: {agreementId: $id}, order: OLDEST_FIRST) {
    edges { node { position version type recordedAt actorId actorRole reason correlationId
                   payload } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _as(person_id: str, *roles: Role) -> Request:
    return Request(Actor(person_id, frozenset(roles)), correlation_id=secrets.token_hex(8))


def seed_reports(team: Team, reports: int) -> None:
    """`reports` people reporting to the team's manager, each with one agreement: a
    third proposed, a sixth with changes requested, the rest approved (their reviews
    due over the coming weeks)."""
    app, manager_id = team.app, team.manager.actor.id
    ids = [f"{manager_id}-r{i:04d}" for i in range(reports)]
    for start in range(0, reports, UPSERT_CHUNK):
        people = [
            c.DirectoryEntry(
                pid,
                Profile(pid.title(), f"{pid}@example.com", manager_id, "bench", 40, True),
            )
            for pid in ids[start : start + UPSERT_CHUNK]
        ]
        app.execute(team.hr, c.UpsertPeople(people=people))
    kinds = list(AdjustmentKind)
    began = time.perf_counter()
    for i, pid in enumerate(ids):
        proposal = c.ProposeAgreement(
            title=f"Growth plan {i}",
            career_goal=GOAL,
            adjustments=[draft(1), AdjustmentDraft(kinds[i % len(kinds)], "Pair on a study", 1)],
        )
        aid = team.run(_as(pid, Role.EMPLOYEE), proposal).id
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} reports' agreements ({time.perf_counter() - began:.0f} s)")
        if i % 6 == 1:
            command: c.Command = c.RequestChanges(agreement_id=aid, reason="Fewer hours, please")
        elif i % 3 != 0:
            command = c.ApproveAgreement(agreement_id=aid, guardrails=GUARDRAILS)
        else:
            continue
        team.run(team.manager, command)


@dataclass
class Browser:
    """A signed-in browser: its cookies (the session) kept by its own client."""

    client: httpx.Client

    @classmethod
    def signed_in(
        cls, base: str, secret: str, person_id: str, *roles: Role, timeout: float = 30
    ) -> Browser:
        client = httpx.Client(base_url=base, timeout=timeout)
        answer = client.post(f"/login/{mint_link(secret, person_id, list(roles))}")
        assert answer.status_code == 303, answer.text[:300]
        return cls(client)


def timed_load(clients: int, seconds: float, make: Callable[[], Callable[[], None]]) -> list[float]:
    """`clients` threads calling their own `make()` for `seconds`: latencies in ms."""
    samples: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        try:
            call = make()
            call()  # warm: connections, caches
            mine = []
            while time.monotonic() < deadline:
                start = time.perf_counter()
                call()
                mine.append((time.perf_counter() - start) * 1000)
        except BaseException as error:  # a failed request fails the run, not one thread
            with lock:
                failures.append(error)
            return
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return samples


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ordered)})"


def p95(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.95))]


def caught_up(url: str, head: int, timeout: float = 300) -> None:
    """Wait until the projector's position reaches `head` (the log's last event).
    /readyz's projection_lag is null until the projector first reports, and a lag
    says nothing of the other followers: wait for the position itself."""
    engines = create_engines(url)
    try:
        deadline = time.monotonic() + timeout
        while positions.current_position(engines.reader, PROJECTOR) < head:
            if time.monotonic() > deadline:
                raise RuntimeError("the projector did not catch up")
            time.sleep(0.5)
    finally:
        engines.dispose()


def report(
    args: argparse.Namespace,
    clients: int,
    results: dict[str, list[float]],
    cpu: dict[str, float | None],
) -> None:
    print(
        f"\nWeb pages, {clients} signed-in client(s) at once, {args.workers} serve worker(s), "
        f"{args.seconds:g} s per page, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.reports} reports, "
        f"a {args.events}-event agreement ({datetime.now(UTC):%Y-%m-%d}):"
    )
    for name, samples in results.items():
        shown = figures(samples) if samples else f"no answer within {args.timeout:g} s"
        spent = cpu.get(name)
        used = "" if spent is None else f"   server CPU {spent:5.1f} ms/request"
        print(f"  {name:36} {shown}{used}")
    page_samples = results["web: manager's agreement page"]
    if page_samples:
        agreement_page = p95(page_samples)
        print(
            f"  web: manager's agreement page: p95 {agreement_page:.1f} ms; target p95 < 100 "
            f"ms: {'met' if agreement_page < 100 else 'MISSED'}"
        )
    for page_name, api_name in (
        ("web: manager inbox (/inbox)", "GraphQL: the inbox's lists"),
        ("web: timeline, first page", "GraphQL: the timeline's events"),
    ):
        if not (results[page_name] and results[api_name]):
            continue
        ours, theirs = p95(results[page_name]), p95(results[api_name])
        verdict = "met" if ours < 100 else "MISSED"
        print(
            f"  {page_name}: p95 {ours:.1f} ms vs GraphQL {theirs:.1f} ms "
            f"({ours / theirs:.2f}x); target p95 < 100 ms: {verdict}"
        )


def analyze(url: str) -> None:
    """Planner statistics for the freshly seeded tables, as autovacuum would have them
    long before a manager has 500 reports (without them PostgreSQL guesses one row per
    table and picks nested loops: the inbox's reads took 5x longer). Run it once the
    projector has caught up: the read models are filled by the server, not the seeding."""
    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&") if "=" in p)["schema"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", default="1,4", help="signed-in clients at once; several: 1,4")
    parser.add_argument("--workers", type=int, default=1, help="crafting serve --workers")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--timeout",
        type=float,
        default=30,
        help="seconds a page may take before it is "
        "reported as not answering (its figures are then missing)",
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args(argv)
    url = _database(args.database_url)
    try:
        rounds = measured(args, url)
    finally:
        drop_schema(url)  # the server has stopped: nothing holds the schema
    for clients, results, cpu in rounds:
        report(args, clients, results, cpu)
    return 0


Round = tuple[int, dict[str, list[float]], dict[str, float | None]]


def measured(args: argparse.Namespace, url: str) -> list[Round]:
    """Seed, serve, and load each page with each number of clients."""
    secret = secrets.token_urlsafe(32)
    container = bootstrap(Settings(database_url=url, jwt_secret=secret))
    print(f"Seeding {args.reports} reports and a {args.events}-event agreement ...")
    team, long_id = _history(container, args.events)
    seed_reports(team, args.reports)
    head = container.app.recorder.max_notification_id() or 0
    container.close()
    manager = team.manager.actor.id
    auditor = team.auditor.actor.id
    with serving(url, secret, workers=args.workers) as server:
        caught_up(url, head)
        if args.database_url:
            analyze(url)  # the read models as projected (before, their tables were empty)
        base = server.base
        before = (date.today() + timedelta(days=28)).isoformat()
        since = (datetime.now(UTC) - timedelta(days=7)).isoformat()
        aid = str(long_id)

        def page(
            person: str, role: tuple[Role, ...], path: str
        ) -> Callable[[], Callable[[], None]]:
            def make() -> Callable[[], None]:
                browser = Browser.signed_in(base, secret, person, *role, timeout=args.timeout)

                def call() -> None:
                    answer = browser.client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)

                return call

            return make

        def graphql(
            person: str, role: Role, query: str, variables: dict[str, Any]
        ) -> Callable[[], Callable[[], None]]:
            token = mint_token(secret, person, [role], timedelta(hours=1))

            def make() -> Callable[[], None]:
                client = httpx.Client(base_url=base, timeout=30)

                def call() -> None:
                    answer = client.post(
                        "/graphql",
                        json={"query": query, "variables": variables},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    assert answer.status_code == 200, answer.text[:300]
                    assert not answer.json().get("errors"), answer.text[:300]

                return call

            return make

        runs = {
            "web: manager inbox (/inbox)": page(manager, (Role.MANAGER, Role.EMPLOYEE), "/inbox"),
            "GraphQL: the inbox's lists": graphql(
                manager,
                Role.MANAGER,
                INBOX_QUERY,
                {"manager": manager, "before": before, "since": since},
            ),
            "web: manager's agreement page": page(
                manager, (Role.MANAGER, Role.EMPLOYEE), f"/agreements/{UUID(aid)}"
            ),
            "web: timeline, first page": page(
                auditor, (Role.AUDITOR,), f"/agreements/{UUID(aid)}/timeline"
            ),
            "GraphQL: the timeline's events": graphql(
                auditor, Role.AUDITOR, TIMELINE_QUERY, {"id": global_id("Agreement", aid)}
            ),
        }
        rounds: list[Round] = []
        for clients in (int(n) for n in args.clients.split(",")):
            results: dict[str, list[float]] = {}
            cpu: dict[str, float | None] = {}
            for name, make in runs.items():
                # The server's own CPU per request (its workers' user + system time over
                # every request sent: each client's sign-in and warm-up too): on a shared
                # machine the latencies say more about the others' load than about ours.
                pids = server.tree()
                used = sum(cpu_seconds(p) for p in pids)
                try:
                    results[name] = timed_load(clients, args.seconds, make)
                except httpx.TimeoutException:
                    results[name] = []  # reported as not answering within --timeout
                spent = sum(cpu_seconds(p) for p in pids) - used
                # + each client's warm-up request, and a page's client's sign-in
                sent = len(results[name]) + clients * (2 if name.startswith("web:") else 1)
                cpu[name] = 1000 * spent / sent if results[name] else None
            rounds.append((clients, results, cpu))
    return rounds


if __name__ == "__main__":
    raise SystemExit(main())
