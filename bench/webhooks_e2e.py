"""Webhook delivery under the commands benchmark's load: throughput to a local
receiver and lag from commit to delivery, beside the projection lag of the same run.

    python -m bench.webhooks_e2e --database-url postgresql://postgres@127.0.0.1:5432/postgres \
        [--clients 8] [--seconds 20] [--workers 2] [--webhooks process|serve]

Starts `crafting serve` (projections inside it, as bench.commands_e2e does) and a
`crafting webhooks` worker on a fresh schema, subscribes a local receiver to every
event (it verifies each delivery with the `standardwebhooks` library), drives the
commands benchmark's clients, and meanwhile polls the projection's position. For each
delivered event: webhook lag = arrival at the receiver - the event's recorded time;
projection lag = when the projection's position first covered it - the same recorded
time (both measured from the same instant, on the same clock)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from standardwebhooks.webhooks import Webhook

from bench.commands_e2e import (
    STARTUP_GRACE,
    build_org,
    drive,
    free_port,
    post,
    serving,
    show,
    stop,
    tail,
    upsert_org,
)
from bench.rebuild_throughput import fresh_schema
from bench.report import machine_lines, percentile

SUBSCRIBE = """mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { subscription { id } secret
  userErrors { message } } }"""
REDELIVER = """mutation($input: RedeliverWebhooksInput!) { redeliverWebhooks(input: $input) {
  queued userErrors { message } } }"""
DRAIN_SECONDS = 300.0


@dataclass
class Receiver:
    """Accepts deliveries after verifying them; notes when each id first arrived. Runs
    in a process of its own (`listening`), so the load generator's threads do not
    slow it down."""

    secret: str = ""
    arrivals: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    duplicates: int = 0
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        arrived = time.time()
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except Exception:
            with self.lock:
                self.rejected += 1
            return 401
        recorded = datetime.fromisoformat(payload["recordedAt"].replace("Z", "+00:00"))
        with self.lock:
            if headers["webhook-id"] in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[headers["webhook-id"]] = (
                    int(payload["position"]),
                    recorded.timestamp(),
                    arrived,
                )
        return 204

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "arrivals": dict(self.arrivals),
                "duplicates": self.duplicates,
                "rejected": self.rejected,
            }


def serve_receiver(port: int, secret: str) -> None:
    """The receiver's process: POST deliveries; GET /count and GET /state for the bench."""
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            state = receiver.state()
            answer = len(state["arrivals"]) if self.path == "/count" else state
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


@contextmanager
def listening(secret: str, port: int) -> Iterator[str]:
    """The receiver in its own process; yields its base URL."""
    process = multiprocessing.get_context("spawn").Process(
        target=serve_receiver, args=(port, secret), daemon=True
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/count", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.join(10)


@dataclass
class ProjectionProbe:
    """Polls the projection's position; when each position was first covered."""

    dsn: str
    schema: str
    seen: list[tuple[int, float]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            last = -1
            while not self.stopping.is_set():
                row = conn.execute(
                    f'SELECT position FROM "{self.schema}".crafting_projection_state'
                ).fetchone()
                now = time.time()
                if row and row[0] > last:
                    last = row[0]
                    self.seen.append((last, now))
                time.sleep(0.002)

    def covered_at(self, position: int) -> float | None:
        for reached, at in self.seen:
            if reached >= position:
                return at
        return None


@contextmanager
def webhook_worker(url: str, secret: str, wanted: bool) -> Iterator[None]:
    if not wanted:
        yield
        return
    env = os.environ | {
        "CRAFTING_DATABASE_URL": url,
        "CRAFTING_JWT_SECRET": secret,
        "CRAFTING_LOG_LEVEL": "WARNING",
        "CRAFTING_WEBHOOKS_ALLOW_PRIVATE": "1",
        "CRAFTING_DEV": "1",
    }
    log = Path(f"/tmp/webhooks_e2e_worker_{os.getpid()}.log")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "webhooks"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        time.sleep(STARTUP_GRACE)
        if process.poll() is not None:
            raise RuntimeError(f"crafting webhooks exited; see {log}:\n{tail(log)}")
        yield
    finally:
        stop(process)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    add("--clients", type=int, default=8)
    add("--seconds", type=float, default=20.0)
    add("--warmup", type=float, default=2.0)
    add("--workers", type=int, default=2, help="`crafting serve --workers`")
    add("--managers", type=int, default=4)
    add("--employees", type=int, default=5)
    add("--cycles", type=int, default=3)
    add(
        "--webhooks",
        choices=("process", "serve"),
        default="process",
        help="deliver from a `crafting webhooks` process (as deployed on PostgreSQL) or "
        "inside serve's workers (one leads)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = datetime.now(UTC)
    machine = machine_lines(args.database_url.split("?")[0])
    secret = secrets.token_urlsafe(48)
    in_serve = args.webhooks == "serve"
    settings = {
        "CRAFTING_SERVE_PROJECTIONS": "1",
        "CRAFTING_WEBHOOKS_RUN": "1" if in_serve else "0",
        "CRAFTING_WEBHOOKS_ALLOW_PRIVATE": "1",
        "CRAFTING_DEV": "1",
    }
    with (
        fresh_schema(args.database_url, False) as url,
        serving(url, secret, args.workers, settings) as server,
        webhook_worker(url, secret, not in_serve),
        ExitStack() as stack,
    ):
        org = build_org(secret, args.clients, args.managers, args.employees)
        # The secret exists once the subscription does, and the receiver needs it: so
        # subscribe first, start the receiver with it (nothing is delivered meanwhile:
        # no event follows the subscription yet).
        port = free_port()
        with httpx.Client(base_url=server.base, timeout=60) as client:
            body = post(
                client,
                org.hr,
                SUBSCRIBE,
                {"input": {"url": f"http://127.0.0.1:{port}/hooks", "eventTypes": ["*"]}},
            )
        created = body["data"]["createWebhookSubscription"]
        if created["userErrors"]:
            raise RuntimeError(str(created["userErrors"]))
        hook_base = stack.enter_context(listening(created["secret"], port))
        upsert_org(server.base, org)
        probe = ProjectionProbe(url.split("?")[0], url.split("schema=")[1])
        prober = threading.Thread(target=probe.run, daemon=True)
        prober.start()
        load = drive(server.base, org, args.cycles, args.warmup, args.seconds)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            expected = subscribed_events(url)  # the planner may still be queuing
            count = httpx.get(f"{hook_base}/count", timeout=10).json()
            if expected is not None and count >= expected:
                break
            time.sleep(0.2)
        probe.stopping.set()
        prober.join(5)
        state = httpx.get(f"{hook_base}/state", timeout=30).json()
        receiver = Receiver(
            arrivals={k: tuple(v) for k, v in state["arrivals"].items()},
            duplicates=state["duplicates"],
            rejected=state["rejected"],
        )
        last = max((a[0] for a in receiver.arrivals.values()), default=1)
        backlog = drain_backlog(server.base, org.hr, created["subscription"]["id"], hook_base, last)
    show("API", load, "commands")
    expected = expected or 0
    lines = summary(args, started, machine, receiver, probe, expected, load.completed())
    lines.append(
        f"- backlog drain without load (`redeliverWebhooks` of the whole run, {backlog[0]:,} "
        f"messages): **{backlog[0] / backlog[1]:,.0f} events/s** ({backlog[1]:.1f} s)"
    )
    print("\n".join(["", *lines]))
    return 0 if len(receiver.arrivals) == expected and not receiver.rejected else 1


def drain_backlog(
    base: str, token: str, subscription_id: str, hook_base: str, last: int
) -> tuple[int, float]:
    """Queue every message of the run again and time until the receiver saw them all
    (as duplicates): the worker's throughput with a backlog and no competing load."""
    before = httpx.get(f"{hook_base}/state", timeout=30).json()["duplicates"]
    began = time.monotonic()
    with httpx.Client(base_url=base, timeout=60) as client:
        body = post(
            client,
            token,
            REDELIVER,
            {"input": {"subscriptionId": subscription_id, "fromPosition": 1, "toPosition": last}},
        )
    answer = body["data"]["redeliverWebhooks"]
    if answer["userErrors"]:
        raise RuntimeError(str(answer["userErrors"]))
    queued = int(answer["queued"])
    deadline = began + DRAIN_SECONDS
    while time.monotonic() < deadline:
        seen = httpx.get(f"{hook_base}/state", timeout=30).json()["duplicates"] - before
        if seen >= queued:
            break
        time.sleep(0.05)
    return queued, time.monotonic() - began


def subscribed_events(url: str) -> int | None:
    """Messages queued for the subscription once the planner has read the whole log
    (None before): every agreement and directory event after the subscription."""
    base, schema = url.split("?")[0], url.split("schema=")[1]
    with psycopg.connect(base, autocommit=True) as conn:
        planned = conn.execute(
            f"SELECT position FROM \"{schema}\".crafting_follower_positions WHERE name = 'webhooks'"
        ).fetchone()
        head = conn.execute(
            f'SELECT max(notification_id) FROM "{schema}".crafting_events'
        ).fetchone()
        if not planned or not head or planned[0] < (head[0] or 0):
            return None
        row = conn.execute(f'SELECT count(*) FROM "{schema}".crafting_webhook_outbox').fetchone()
    return int(row[0]) if row else 0


def summary(
    args: argparse.Namespace,
    started: datetime,
    machine: list[str],
    receiver: Receiver,
    probe: ProjectionProbe,
    expected: int,
    commands: int,
) -> list[str]:
    arrivals = sorted(receiver.arrivals.values(), key=lambda a: a[2])
    hook_lags = [(arrived - recorded) * 1000 for _, recorded, arrived in arrivals]
    projection_lags = [
        (covered - recorded) * 1000
        for position, recorded, _ in arrivals
        if (covered := probe.covered_at(position)) is not None
    ]
    span = arrivals[-1][2] - arrivals[0][2] if len(arrivals) > 1 else float("nan")
    in_order = [a[0] for a in sorted(receiver.arrivals.values(), key=lambda a: a[2])]
    return [
        f"### Webhook delivery under the commands load ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.webhooks_e2e --clients {args.clients} --seconds {args.seconds:g} "
        f"--workers {args.workers} --webhooks {args.webhooks}`",
        "",
        *machine,
        f"- load: {commands:,} commands in {args.seconds:g} s (after {args.warmup:g} s warm-up)",
        f"- delivered **{len(arrivals):,} of {expected:,}** events, duplicates "
        f"{receiver.duplicates}, rejected signatures {receiver.rejected}, in log order: "
        f"{in_order == sorted(in_order)}",
        f"- delivery throughput: **{len(arrivals) / span:,.0f} events/s** (first to last "
        f"delivery, {span:.1f} s)",
        f"- webhook lag, recorded -> accepted by the receiver: p50 "
        f"**{percentile(hook_lags, 50):.0f} ms**, p99 **{percentile(hook_lags, 99):.0f} ms**",
        f"- projection lag, same events, recorded -> projected: p50 "
        f"**{percentile(projection_lags, 50):.0f} ms**, p99 "
        f"**{percentile(projection_lags, 99):.0f} ms**",
    ]


if __name__ == "__main__":
    sys.exit(main())
