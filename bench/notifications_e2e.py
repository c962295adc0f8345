"""E-mail notifications under the commands benchmark's load: mails per second through a
local SMTP server, and the commands' rate with notifications on and off in the same run.

    python -m bench.notifications_e2e [--database-url postgresql://…] [--clients 8]
        [--seconds 20] [--workers 2] [--rounds 2]

Each round runs the commands benchmark twice on fresh schemas, `crafting serve` with
notifications off (CRAFTING_NOTIFY_RUN=0) and on (sent to an aiosmtpd server in its own
process that counts what it accepts), alternating which goes first. Mails/s = mails the
server accepted during the measured window / its seconds; afterwards, how long the
backlog took to drain."""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import statistics
import threading
import time
from typing import Any

from bench.commands_e2e import build_org, drive, free_port, serving, show, upsert_org
from bench.rebuild_throughput import fresh_schema
from bench.report import machine_lines

DRAIN_SECONDS = 120.0


def _sink(port: int, counter: Any, ready: Any) -> None:
    """An SMTP server counting the mails it accepts (in its own process)."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def one(args: argparse.Namespace, notify: bool) -> dict[str, float]:
    """One run of the commands benchmark; its figures."""
    secret = secrets.token_urlsafe(48)
    port = free_port()
    counter = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(30)
    settings = {
        "CRAFTING_NOTIFY_RUN": "1" if notify else "0",
        "CRAFTING_SMTP_URL": f"smtp://127.0.0.1:{port}",
    }
    try:
        with (
            fresh_schema(args.database_url, False) as url,
            serving(url, secret, args.workers, settings) as server,
        ):
            org = build_org(secret, args.clients, args.managers, args.employees)
            upsert_org(server.base, org)
            began = time.perf_counter()
            at_start: int | None = None

            def mark() -> None:
                nonlocal at_start
                time.sleep(args.warmup)
                at_start = counter.value

            marker = threading.Thread(target=mark)
            marker.start()
            run = drive(server.base, org, args.cycles, args.warmup, args.seconds)
            marker.join()
            during = counter.value - (at_start or 0)
            load_end = time.perf_counter()
            drained = 0.0
            if notify:  # until the count stops growing for 3 s
                last, still = counter.value, time.perf_counter()
                while (
                    time.perf_counter() - still < 3
                    and time.perf_counter() - load_end < DRAIN_SECONDS
                ):
                    time.sleep(0.2)
                    if counter.value != last:
                        last, still = counter.value, time.perf_counter()
                drained = still - load_end
            show(f"notifications {'on' if notify else 'off'}", run, "commands")
            return {
                "commands_per_second": run.completed() / run.seconds,
                "mails_during": during / run.seconds,
                "mails_total": float(counter.value),
                "drain_seconds": drained,
                "elapsed": load_end - began,
            }
    finally:
        sink.terminate()
        sink.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    add("--clients", type=int, default=8)
    add("--seconds", type=float, default=20.0)
    add("--warmup", type=float, default=2.0)
    add("--workers", type=int, default=2)
    add("--managers", type=int, default=4)
    add("--employees", type=int, default=5)
    add("--cycles", type=int, default=3)
    add("--rounds", type=int, default=2, help="off/on pairs, alternating which goes first")
    args = parser.parse_args(argv)
    print("\n".join(machine_lines(args.database_url.split("?")[0])))
    off: list[float] = []
    on: list[dict[str, float]] = []
    for i in range(args.rounds):
        order = (False, True) if i % 2 == 0 else (True, False)
        for notify in order:
            figures = one(args, notify)
            if notify:
                on.append(figures)
            else:
                off.append(figures["commands_per_second"])
    rate_off = statistics.median(off)
    rate_on = statistics.median(f["commands_per_second"] for f in on)
    print()
    runs_off = ", ".join(f"{r:.1f}" for r in off)
    runs_on = ", ".join(f"{f['commands_per_second']:.1f}" for f in on)
    print(f"commands/s, notifications off: {rate_off:.1f} (runs: {runs_off})")
    print(f"commands/s, notifications on:  {rate_on:.1f} (runs: {runs_on})")
    print(f"cost: {(1 - rate_on / rate_off) * 100:.1f} %")
    for f in on:
        print(
            f"mails/s during load {f['mails_during']:.1f}; mails in all {f['mails_total']:.0f}; "
            f"backlog drained {f['drain_seconds']:.1f} s after the load"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
