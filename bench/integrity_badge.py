"""The web app's integrity badge (and GraphQL's `verifyIntegrity`, the same check) on an
agreement with 10,000 events, sealed, in a log where another agreement's events are
interleaved with its own (so its leaves are spread over the Merkle tree, as in
production). Prints the badge page's latency over HTTP and the check alone.

    python -m bench.integrity_badge [--events 10000] [--database-url URL] [--samples 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from api.ports import Ports
from api.web.sessions import mint_link
from bench.team import Team
from domain.agreement import CHILD_LIMITS
from domain.application import commands as c
from domain.values import Role
from infra import audit
from infra.bootstrap import bootstrap
from infra.secrets import jwt_secret
from infra.settings import Settings
from infra.signing import new_private_key, signing_key


def _database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/badge.db"
    schema = f"bench_badge_{uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{url}?schema={schema}"


def main() -> None:
    """Build, seal, then time the badge."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    url = _database(args.database_url)
    settings = Settings(database_url=url, serve_projections=True, rate_limit_per_second=0)
    if args.database_url:
        settings = Settings(
            database_url=url,
            serve_projections=True,
            rate_limit_per_second=0,
            jwt_secret="bench-" + uuid4().hex + uuid4().hex,
            signing_key=new_private_key(),
        )
    for kind in CHILD_LIMITS:
        CHILD_LIMITS[kind] = 10**9
    container = bootstrap(settings)
    container.prepare()
    team = Team(container.app)
    measured, other = team.active().id, team.active().id
    started = time.perf_counter()
    version = 2
    while version < args.events:
        for aid in (measured, other):
            review = c.RecordReview(agreement_id=aid, outcome="ON_TRACK", notes="weekly")
            done = team.run(team.manager, review).version
            version = done if aid == measured else version
        if version % 2000 == 0:
            print(f"  {version} events ({time.perf_counter() - started:.0f} s)", flush=True)
    began = time.perf_counter()
    audit.sign_checkpoint(container.store, signing_key(settings))
    print(f"sealing the first checkpoint over the log: {time.perf_counter() - began:.1f} s")
    container.projector.catch_up()
    head = container.app.recorder.max_notification_id()
    print(f"built: the agreement has {version} events, the log {head}")
    app = create_app(container)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        secret = jwt_secret(settings, create=True)
        link = mint_link(secret, "auditor-bench", [Role.AUDITOR], datetime.now(UTC))
        assert client.post(f"/login/{link}").status_code == 303
        path = f"/agreements/{measured}/integrity"
        first = client.get(path, headers={"HX-Request": "true"})
        assert first.status_code == 200, first.text
        page = []
        for _ in range(args.samples):
            began = time.perf_counter()
            response = client.get(path, headers={"HX-Request": "true"})
            page.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        check, ports = [], Ports.of(container)
        cpu: dict[str, list[float]] = {"proof": [], "chain only": []}
        for _ in range(args.samples):  # alternating, so load on the machine hits both
            began, spent = time.perf_counter(), time.process_time()
            ports.audit.check_agreement(measured)  # the badge's work, without HTTP
            check.append((time.perf_counter() - began) * 1000)
            cpu["proof"].append((time.process_time() - spent) * 1000)
            spent = time.process_time()
            audit.verify_stream(container.store, measured)  # what the badge did before
            container.store.latest_checkpoint()
            cpu["chain only"].append((time.process_time() - spent) * 1000)
    print(f"badge says: {_said(first.text)}")
    print(
        f"badge page over HTTP: median {statistics.median(page):.0f} ms, "
        f"max {max(page):.0f} ms (n={len(page)})"
    )
    print(f"the check alone:      median {statistics.median(check):.0f} ms (n={len(check)})")
    for name, spent in cpu.items():
        print(f"CPU time, {name:10}: median {statistics.median(spent):.0f} ms")
    container.close()
    if args.database_url:  # the schema made for this run
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{url.split("schema=")[1]}" CASCADE')


def _said(html: str) -> str:
    for word in ("badge-ok", "badge-pending", "badge-bad"):
        if word in html:
            return word
    return "?"


if __name__ == "__main__":
    main()
