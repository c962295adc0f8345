"""Command throughput over HTTP (GraphQL mutations) versus the bare library's saves.

    python -m bench.commands_e2e --database-url postgresql://postgres@127.0.0.1:5432/postgres \
        [--clients 8] [--seconds 20] [--workers 2]

Starts `crafting serve` on a fresh schema, drives it with concurrent clients, then
measures the bare eventsourcing library saving the same events from as many threads in
a second fresh schema. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from api.http.auth import mint_token
from bench.rebuild_throughput import fresh_schema
from bench.report import machine_lines, percentile
from domain.agreement import Agreement
from domain.metadata import Meta
from domain.transcodings import register_all
from domain.values import (
    AdjustmentDraft,
    AdjustmentKind,
    CareerGoal,
    Guardrails,
    ReviewOutcome,
    Role,
)
from infra.persistence import eventsourcing_env

TARGET_RATIO = 0.35  # the target: >= 0.35 x the bare ordered save
TARGET_CPU_MS = 3.0  # the target: <= 3 ms of server CPU per command
STARTUP_GRACE = 3.0  # seconds the server must stay up after /healthz first answers
OK = "ok"
LOUD = ("HTTP 5", "GRAPHQL_ERRORS", "EXCEPTION")

PAYLOAD = "position userErrors { field message code }"
MUTATIONS = {
    "proposeAgreement": "ProposeAgreementInput",
    "approveAgreement": "ApproveAgreementInput",
    "addAdjustment": "AddAdjustmentInput",
    "reallocateTask": "ReallocateTaskInput",
    "recordReview": "RecordReviewInput",
    "revertChange": "RevertChangeInput",
}
# What a client asks back: the agreement's id and version, and for a new adjustment
# its change id (the last adjustment listed).
SELECTIONS = {
    "proposeAgreement": "agreement { id version }",
    "approveAgreement": "agreement { id version status }",
    "addAdjustment": "agreement { id version adjustments { changeId status } }",
    "reallocateTask": "agreement { id version }",
    "recordReview": "agreement { id version }",
    "revertChange": "agreement { id version }",
}
UPSERT = """mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) {
  position userErrors { field message code } } }"""
SYNC = "query($p: Int) { agreements(first: 0, consistentWith: $p) { edges { cursor } } }"


def mutation(name: str) -> str:
    return (
        f"mutation($input: {MUTATIONS[name]}!) {{ {name}(input: $input) {{ "
        f"{SELECTIONS[name]} {PAYLOAD} }} }}"
    )


QUERIES = {name: mutation(name) for name in MUTATIONS}


# --- results ------------------------------------------------------------------------


@dataclass
class Sample:
    command: str
    started: float
    ms: float
    outcome: str
    detail: str = ""


@dataclass
class Run:
    samples: list[Sample]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def latencies(self) -> list[float]:
        return [s.ms for s in self.samples]

    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome for s in self.samples)

    def completed(self) -> int:
        """Commands the service answered (done, or refused with a user error)."""
        return sum(1 for s in self.samples if not s.outcome.startswith(LOUD))

    def loud(self) -> list[Sample]:
        return [s for s in self.samples if s.outcome.startswith(LOUD)]


def window(samples: list[Sample], began: float, warmup: float, seconds: float) -> Run:
    """The samples that started after the warm-up, over the time they took."""
    start = began + warmup
    kept = [s for s in samples if s.started >= start]
    end = max((s.started + s.ms / 1000 for s in kept), default=start + seconds)
    return Run(kept, max(end - start, 1e-9))


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def tree(self) -> list[int]:
        """The server's pid and its descendants' (uvicorn's workers)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                rest = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(rest[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class MemoryWatch:
    """Samples the summed VmRSS of the server's process tree every 0.5 s."""

    server: Server
    peak_kib: int = 0
    hwm_kib: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        pids = self.server.tree()
        self.peak_kib = max(self.peak_kib, sum(status_kib(p, "VmRSS") for p in pids))
        for pid in pids:
            self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), status_kib(pid, "VmHWM"))
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


@contextmanager
def serving(
    url: str, secret: str, workers: int, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """`crafting serve` in a subprocess, healthy; `settings` add or override CRAFTING_*."""
    port = free_port()
    env = os.environ | {
        "CRAFTING_DATABASE_URL": url,
        "CRAFTING_JWT_SECRET": secret,
        "CRAFTING_SERVE_PROJECTIONS": "1",
        "CRAFTING_LOG_LEVEL": "WARNING",
        "CRAFTING_RATE_LIMIT_PER_SECOND": "0",  # a load generator, not a runaway client
    }
    env |= settings or {}
    log = Path(f"/tmp/commands_e2e_server_{port}.log")
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    for attempt in (1, 2):
        with log.open("ab") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(process, f"http://127.0.0.1:{port}", log)
        try:
            wait_healthy(server)
            time.sleep(STARTUP_GRACE)  # every worker has prepared, or failed and stopped all
            if process.poll() is None:
                break
            # Seen on a fresh schema: two workers create the read-model tables at once,
            # one fails (UniqueViolation on pg_type) and uvicorn stops the whole server.
            print(
                f"!!! crafting serve exited {STARTUP_GRACE:g} s after its first healthy answer "
                f"(attempt {attempt}); log {log}:\n{tail(log, 4)[-1500:]}",
                file=sys.stderr,
            )
        except BaseException:
            stop(process)
            raise
    else:
        raise RuntimeError(f"crafting serve did not stay up; see {log}")
    try:
        yield server
    finally:
        if process.poll() is not None:
            print(f"!!! crafting serve had exited (code {process.returncode})", file=sys.stderr)
        stop(process)


@contextmanager
def projecting(url: str, secret: str, wanted: bool) -> Iterator[subprocess.Popen[bytes] | None]:
    """`crafting projector` beside the server (when `wanted`), as deployed."""
    if not wanted:
        yield None
        return
    env = os.environ | {
        "CRAFTING_DATABASE_URL": url,
        "CRAFTING_JWT_SECRET": secret,
        "CRAFTING_LOG_LEVEL": "WARNING",
        "CRAFTING_RATE_LIMIT_PER_SECOND": "0",  # a load generator, not a runaway client
    }
    log = Path(f"/tmp/commands_e2e_projector_{os.getpid()}.log")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "projector"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        time.sleep(STARTUP_GRACE)
        if process.poll() is not None:
            raise RuntimeError(f"crafting projector exited; see {log}:\n{tail(log)}")
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("server did not stop within 30 s of SIGTERM; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def spawn_group(command: list[str], log: Path, **kw: Any) -> subprocess.Popen[bytes]:
    """Start `command` as the leader of a process group of its own (output to `log`), so
    that `stop_group` reaches every process it starts (npx's node, its cluster workers)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw
        )


def stop_group(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the whole group `spawn_group` made, SIGKILL to what is left of it after
    `timeout`: a signal to the leader alone leaves the children it does not pass it to
    (npx does not forward it; PostGraphile's cluster workers outlive their master)."""
    group = process.pid
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, so only live members keep the group
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            process.wait()
            return
        time.sleep(0.1)
    print(f"process group {group} still running {timeout:g} s after SIGTERM; killing it")
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def wait_healthy(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early; see {server.log}:\n{tail(server.log)}")
        try:
            if httpx.get(server.base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s; see {server.log}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the organisation and the clients -------------------------------------------------


@dataclass
class Team:
    """What one client works on: its employees, under one manager."""

    index: int
    manager: str
    employees: list[str]
    neighbours: list[str]  # employees of another client under the same manager


@dataclass
class Org:
    tokens: dict[str, str]
    teams: list[Team]
    hr: str


def build_org(secret: str, clients: int, managers: int, per_client: int) -> Org:
    run = uuid4().hex[:6]

    def token(sub: str, *roles: Role) -> str:
        return mint_token(secret, sub, list(roles), timedelta(hours=2))

    mgrs = [f"mgr{m}-{run}" for m in range(managers)]
    teams = []
    for c in range(clients):
        employees = [f"emp{c}-{k}-{run}" for k in range(per_client)]
        teams.append(Team(c, mgrs[c % managers], employees, []))
    for team in teams:
        same = [t for t in teams if t.manager == team.manager and t is not team]
        team.neighbours = same[0].employees if same else []
    tokens = {m: token(m, Role.MANAGER, Role.EMPLOYEE) for m in mgrs}
    for team in teams:
        tokens |= {e: token(e, Role.EMPLOYEE) for e in team.employees}
    return Org(tokens, teams, token(f"hr-{run}", Role.HR))


def upsert_org(base: str, org: Org) -> None:
    people: list[dict[str, Any]] = []
    for manager in dict.fromkeys(t.manager for t in org.teams):
        people.append(person(manager, None, f"team-{manager}"))
    for team in org.teams:
        people += [person(e, team.manager, f"team-{team.manager}") for e in team.employees]
    with httpx.Client(base_url=base, timeout=60) as client:
        body = post(client, org.hr, UPSERT, {"input": {"people": people}})
        payload = body["data"]["upsertPeople"]
        if payload["userErrors"]:
            raise RuntimeError(f"upsertPeople refused: {payload['userErrors']}")
        post(client, org.hr, SYNC, {"p": payload["position"]})


def person(pid: str, manager: str | None, team: str) -> dict[str, Any]:
    return {
        "id": pid,
        "displayName": pid.title(),
        "email": f"{pid}@example.com",
        "managerId": manager,
        "teamId": team,
        "contractedHoursPerWeek": 40,
    }


def post(client: httpx.Client, token: str, query: str, variables: dict[str, Any]) -> Any:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body


class Client:
    """One user agent: its own employees' agreements, one after another. Each agreement
    is proposed (by the employee), approved (by the manager), then goes through
    `cycles` rounds of: add an adjustment, reallocate half an hour to a teammate, record
    a review, revert the adjustment."""

    def __init__(self, base: str, org: Org, team: Team, cycles: int, deadline: float) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.org, self.team, self.cycles, self.deadline = org, team, cycles, deadline
        self.samples: list[Sample] = []
        self.turn = 0

    def call(self, name: str, token: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Run one mutation; its payload when it succeeded, else None (outcome noted)."""
        started = time.perf_counter()
        payload: dict[str, Any] | None = None
        detail = ""
        try:
            response = self.http.post(
                "/graphql",
                json={"query": QUERIES[name], "variables": {"input": fields}},
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code != 200:
                outcome, detail = f"HTTP {response.status_code}", response.text[:300]
            else:
                body = response.json()
                if body.get("errors"):
                    outcome, detail = "GRAPHQL_ERRORS", str(body["errors"])[:300]
                else:
                    data = body["data"][name]
                    errors = data["userErrors"]
                    if errors:
                        outcome, detail = errors[0]["code"], errors[0]["message"]
                    else:
                        outcome, payload = OK, data
        except httpx.HTTPError as error:
            outcome, detail = f"EXCEPTION {type(error).__name__}", str(error)[:300]
        ms = (time.perf_counter() - started) * 1000
        self.samples.append(Sample(name, started, ms, outcome, detail))
        return payload

    def done(self) -> bool:
        return time.perf_counter() >= self.deadline

    def run(self) -> None:
        try:
            while not self.done():
                self.agreement()
        finally:
            self.http.close()

    def agreement(self) -> None:
        team, tokens = self.team, self.org.tokens
        employee = team.employees[self.turn % len(team.employees)]
        self.turn += 1
        proposed = self.call(
            "proposeAgreement",
            tokens[employee],
            {
                "title": "Tester to product manager",
                "careerGoal": {"targetRole": "Product manager", "skills": ["research"]},
                "adjustments": [
                    {"kind": "TASK", "description": "Write one feature brief", "hoursPerWeek": 1}
                ],
            },
        )
        if proposed is None or self.done():
            return
        aid = proposed["agreement"]["id"]
        manager = tokens[team.manager]
        approved = self.call(
            "approveAgreement",
            manager,
            {
                "agreementId": aid,
                "guardrails": {
                    "maxDevelopmentHoursPerWeek": 8,
                    "reviewEveryDays": 14,
                    "protectedResponsibilities": ["Release sign-off"],
                },
            },
        )
        if approved is None:
            return
        for cycle in range(self.cycles):
            if self.done():
                return
            added = self.call(
                "addAdjustment",
                manager,
                {
                    "agreementId": aid,
                    "adjustment": {
                        "kind": "COGNITIVE",
                        "description": f"Customer research, round {cycle + 1}",
                        "hoursPerWeek": 1,
                    },
                },
            )
            if self.done():
                return
            self.call(
                "reallocateTask",
                manager,
                {
                    "agreementId": aid,
                    "task": f"Smoke tests {cycle + 1}",
                    "hoursPerWeek": 0.5,
                    "toPersonId": self.receiver(employee, cycle),
                    "reason": "Frees time for research",
                },
            )
            if self.done():
                return
            self.call(
                "recordReview",
                manager,
                {"agreementId": aid, "outcome": "ON_TRACK", "notes": "Going well"},
            )
            if added is None or self.done():
                continue
            change = added["agreement"]["adjustments"][-1]["changeId"]
            self.call(
                "revertChange",
                manager,
                {"agreementId": aid, "changeId": change, "reason": "Too much at once"},
            )

    def receiver(self, employee: str, cycle: int) -> str:
        """Mostly the next of this client's employees (a ring, so received hours net
        out); every fourth time one of another client's under the same manager."""
        team = self.team
        if team.neighbours and (self.turn + cycle) % 4 == 0:
            return team.neighbours[(self.turn + cycle) % len(team.neighbours)]
        mates = team.employees
        return mates[(mates.index(employee) + 1) % len(mates)]


def drive(base: str, org: Org, cycles: int, warmup: float, seconds: float) -> tuple[Run, int]:
    """The measured window's run, and every command answered (warm-up included: the
    server's CPU is read over both)."""
    began = time.perf_counter()
    deadline = began + warmup + seconds
    clients = [Client(base, org, team, cycles, deadline) for team in org.teams]
    threads = [threading.Thread(target=c.run, name=f"client-{c.team.index}") for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples = [s for c in clients for s in c.samples]
    answered = sum(1 for s in samples if not s.outcome.startswith(LOUD))
    return window(samples, began, warmup, seconds), answered


def wait_for_followers(url: str, timeout: float = 120.0) -> float:
    """Wait until every follower has processed the whole log; the seconds it took."""
    base, schema = url.split("?schema=")
    began = time.perf_counter()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        while time.perf_counter() - began < timeout:
            row = conn.execute(
                "SELECT (SELECT max(notification_id) FROM crafting_events),"
                " (SELECT min(position) FROM crafting_follower_positions)"
            ).fetchone()
            if row is not None and (row[0] is None or (row[1] or 0) >= row[0]):
                break
            time.sleep(0.05)
    return time.perf_counter() - began


# --- the bare library -----------------------------------------------------------------


class BareApp(Application[UUID]):
    """The library's Application with our transcodings, and nothing else of ours."""

    name = "Bare"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)


def bare_env(url: str, threads: int) -> dict[str, str]:
    # The service's own store settings: the same safe insert path (commit order =
    # position order, infra.postgres_store), never the library's unlocked function.
    env = eventsourcing_env(url)
    env |= {
        "CREATE_TABLE": "y",
        "POSTGRES_POOL_SIZE": str(threads),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    return env


def bare_worker(app: BareApp, cycles: int, deadline: float, samples: list[Sample]) -> None:
    """The same commands as a client, on an aggregate kept in memory: one save each."""
    today = date(2026, 11, 2)
    employee, mate, manager = f"emp-{uuid4().hex[:6]}", "mate", "mgr"
    goal = CareerGoal("Product manager", ("research",))
    rails = Guardrails(8, ("Release sign-off",), 14)
    clock = time.perf_counter

    def meta(reason: str | None = None, actor: str = manager) -> Meta:
        return Meta(actor, "EMPLOYEE" if actor == employee else "MANAGER", str(uuid4()), reason)

    def saved(name: str, started: float, agreement: Agreement) -> None:
        app.save(agreement)
        samples.append(Sample(name, started, (clock() - started) * 1000, OK))

    while clock() < deadline:
        started = clock()
        drafts = [AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 1)]
        agreement = Agreement.propose(employee, "Tester to PM", goal, drafts, meta(actor=employee))
        saved("proposeAgreement", started, agreement)
        started = clock()
        agreement.approve(manager, rails, today, meta())
        saved("approveAgreement", started, agreement)
        for cycle in range(cycles):
            if clock() >= deadline:
                break
            started = clock()
            draft = AdjustmentDraft(AdjustmentKind.COGNITIVE, f"Research {cycle + 1}", 1)
            change = agreement.add_adjustment(draft, meta()).change_id
            saved("addAdjustment", started, agreement)
            started = clock()
            why = meta("Frees time for research")
            agreement.reallocate(f"Smoke tests {cycle + 1}", 0.5, employee, mate, today, why)
            saved("reallocateTask", started, agreement)
            started = clock()
            agreement.record_review(today, ReviewOutcome.ON_TRACK, "Going well", None, meta())
            saved("recordReview", started, agreement)
            started = clock()
            agreement.revert_change(change, meta("Too much at once"))
            saved("revertChange", started, agreement)


def bare(url: str, threads: int, cycles: int, warmup: float, seconds: float) -> Run:
    app = BareApp(env=bare_env(url, threads))
    try:
        began = time.perf_counter()
        deadline = began + warmup + seconds
        per_thread: list[list[Sample]] = [[] for _ in range(threads)]
        workers = [
            threading.Thread(target=bare_worker, args=(app, cycles, deadline, samples))
            for samples in per_thread
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return window([s for ss in per_thread for s in ss], began, warmup, seconds)
    finally:
        app.close()


# --- the run ----------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server and database; fresh schemas are made inside it",
    )
    add("--clients", type=int, default=8, help="concurrent HTTP clients (and bare threads)")
    add("--seconds", type=float, default=20.0, help="measured seconds of each load")
    add("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    add("--workers", type=int, default=2, help="`crafting serve --workers`")
    add("--managers", type=int, default=4)
    add("--employees", type=int, default=5, help="employees per client")
    add("--cycles", type=int, default=3, help="adjust/reallocate/review/revert rounds")
    add("--keep", action="store_true", help="keep the schemas (for inspection)")
    add("--hold", action="store_true", help="pause before the load (to attach py-spy)")
    add(
        "--projections",
        choices=("process", "serve"),
        default="serve",
        help="run the projections inside serve's workers (default; on 2 cores this was "
        "faster: 293 vs 231 commands/s) or in a `crafting projector` process beside it, "
        "as docker-compose deploys them",
    )
    return parser.parse_args(argv)


def show(label: str, run: Run, unit: str) -> None:
    latencies = run.latencies()
    print(
        f"{label}: {run.completed() / run.seconds:,.1f} {unit}/s over {run.seconds:.1f} s "
        f"({run.completed():,} of {len(run.samples):,}), "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = datetime.now(UTC)
    machine = machine_lines(args.database_url.split("?")[0])
    secret = secrets.token_urlsafe(48)
    client_cpu = time.process_time()
    with fresh_schema(args.database_url, args.keep) as url:
        in_serve = args.projections == "serve"
        settings = {"CRAFTING_SERVE_PROJECTIONS": "1" if in_serve else "0"}
        with (
            serving(url, secret, args.workers, settings) as server,
            projecting(url, secret, not in_serve) as projector,
        ):
            org = build_org(secret, args.clients, args.managers, args.employees)
            upsert_org(server.base, org)
            print(f"server up at {server.base}, pids {server.tree()}; {args.clients} clients")
            if args.hold:
                input("press Enter to start the load ")
            with MemoryWatch(server) as watch:
                # The server's processes and the projector's: the service's CPU.
                pids = server.tree() + ([projector.pid] if projector else [])
                cpu_before = sum(cpu_seconds(p) for p in pids)
                api, answered = drive(server.base, org, args.cycles, args.warmup, args.seconds)
                # The followers' work for these commands is part of their cost.
                lag_seconds = wait_for_followers(url)
                server_cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
            client_cpu = time.process_time() - client_cpu
            show("API", api, "commands")
        failures = tail(server.log)
    with fresh_schema(args.database_url, args.keep) as url:
        baseline = bare(url, args.clients, args.cycles, args.warmup, args.seconds)
    show("bare", baseline, "saves")
    lines = summary(
        args, started, machine, api, baseline, watch, server_cpu / max(answered, 1), client_cpu
    )
    lines.append(f"- the followers finished the log {lag_seconds:.1f} s after the load")
    print()
    print("\n".join(lines))
    loud = api.loud()
    if loud:
        print(f"\n!!! {len(loud)} commands failed loudly (HTTP errors, GraphQL errors):")
        for sample in loud[:10]:
            print(f"!!! {sample.command}: {sample.outcome}: {sample.detail}")
        print(f"!!! server log tail ({server.log}):\n{failures}")
        return 1
    return 0


def summary(
    args: argparse.Namespace,
    started: datetime,
    machine: list[str],
    api: Run,
    baseline: Run,
    watch: MemoryWatch,
    cpu_per_command: float,
    client_cpu: float,
) -> list[str]:
    ratio = api.completed() / api.seconds / baseline.per_second
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    cpu_ms = cpu_per_command * 1000
    cpu_met = "met" if cpu_ms <= TARGET_CPU_MS else "NOT met"
    outcomes = ", ".join(f"{k} {v:,}" for k, v in api.outcomes().most_common())
    by_command = ", ".join(
        f"{name} {percentile([s.ms for s in api.samples if s.command == name], 50):.0f}"
        for name in MUTATIONS
    )
    hwm = ", ".join(f"{pid}: {kib / 1024:.0f}" for pid, kib in sorted(watch.hwm_kib.items()))
    return [
        f"### Commands over HTTP versus bare saves ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.commands_e2e --clients {args.clients} --seconds {args.seconds:g} "
        f"--workers {args.workers}` (warm-up {args.warmup:g} s, {args.managers} managers, "
        f"{args.employees} employees per client, {args.cycles} cycles per agreement)",
        "",
        *machine,
        f"- API (`crafting serve --workers {args.workers}`, projections "
        f"{'in serve' if args.projections == 'serve' else 'in `crafting projector`'}, "
        f"{args.clients} httpx clients in threads): **{api.completed() / api.seconds:,.1f} "
        f"commands/s** ({api.completed():,} in {api.seconds:.1f} s), p50 "
        f"**{percentile(api.latencies(), 50):.1f} ms**, p99 "
        f"**{percentile(api.latencies(), 99):.1f} ms**",
        f"- outcomes: {outcomes}",
        f"- p50 ms by mutation: {by_command}",
        f"- bare library (`Application.save`, DB functions on, {args.clients} threads, one "
        f"save per command, same commands on in-memory aggregates): "
        f"**{baseline.per_second:,.1f} saves/s**, p50 "
        f"{percentile(baseline.latencies(), 50):.1f} ms, p99 "
        f"{percentile(baseline.latencies(), 99):.1f} ms",
        f"- ratio API/bare: **{ratio:.2f}** — target >= {TARGET_RATIO}: **{met}**",
        f"- server process tree: peak RSS (summed, sampled every 0.5 s) "
        f"**{watch.peak_kib / 1024:.0f} MiB**; VmHWM MiB by pid: {hwm}",
        f"- server CPU per command answered (server tree and projector over the whole "
        f"load, warm-up included): **{cpu_ms:.2f} ms** — target <= {TARGET_CPU_MS:g} ms: "
        f"**{cpu_met}**; load generator {client_cpu:.1f} s of CPU (same machine)",
    ]


if __name__ == "__main__":
    sys.exit(main())
