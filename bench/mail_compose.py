"""CPU of composing notification mails in one process (`process_time`, not wall time).

Composes N mails of each typical kind (a proposal, an approval with guardrails, a
reallocation, a review reminder with its .ics, a daily digest, a sign-in link) and
reads its plain part as the dispatcher does (`--bytes`: and writes it to bytes, as
SMTP sends it); prints CPU per mail per kind and over all kinds. Compare two checkouts
with `PYTHONPATH`, running the file (not `-m`, which puts the current directory first):

    PYTHONPATH=/path/to/checkout nice -n 10 .venv/bin/python bench/mail_compose.py -n 300

`--profile FILE` writes a cProfile of the run. `--interleave` (this tree only) measures in
one process, in alternating rounds, the templates inlined once against each message
inlined whole (the code before), and the Date header kept against parsed per message."""

from __future__ import annotations

import argparse
import cProfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from infra.notifications import compose as c
from infra.notifications.kinds import REVIEW_SOON, Kind
from infra.notifications.wording import Facts

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LETTERHEAD = c.Letterhead("Crafting <noreply@example.com>", "https://crafting.example", b"k" * 32)
ADDRESS = "mgr-1@example.com"


def facts(event_type: str, **more: Any) -> Facts:
    base: dict[str, Any] = {
        "event_type": event_type,
        "recipient_id": "mgr-1",
        "recipient_name": "Mara Manager",
        "actor_name": "Emil Employee",
        "employee_id": "emp-1",
        "employee_name": "Emil Employee",
        "title": "Tester to product manager",
        "reason": None,
        "event": None,
    }
    base.update(more)
    return Facts(**base)


def cases() -> dict[str, Callable[[Any], Any]]:
    approved = SimpleNamespace(
        guardrails=SimpleNamespace(
            max_development_hours_per_week=4,
            review_every_days=30,
            protected_responsibilities=["On-call", "Release notes"],
        ),
        next_review_on=date(2026, 12, 2),
    )
    realloc = SimpleNamespace(
        reallocation=SimpleNamespace(
            to_person_id="mgr-1",
            from_person_id="emp-1",
            task="Release notes",
            hours_per_week=2,
            effective_on=date(2026, 11, 9),
            reason="Frees time for the new role",
        )
    )
    names = {"mgr-1": "Mara Manager", "emp-1": "Emil Employee"}

    def note(f: Facts, kind: Kind) -> Callable[[Any], Any]:
        return lambda env: c.compose(
            env, LETTERHEAD, f, to_address=ADDRESS, message_key="m1",
            agreement_id="a-1", kind=kind, now=NOW,
        )  # fmt: skip

    return {
        "proposed": note(facts("Proposed"), Kind.DECISION_NEEDED),
        "approved": note(
            facts("Approved", recipient_id="emp-1", event=approved), Kind.DECISION_MADE
        ),
        "reallocated": note(
            facts("TaskReallocated", event=realloc, names=names), Kind.DECISION_MADE
        ),
        "review": note(
            facts(REVIEW_SOON, due_on=date(2026, 11, 9), today=date(2026, 11, 2)),
            Kind.REVIEW_DUE,
        ),
        "digest": lambda env: c.compose_digest(
            env,
            LETTERHEAD,
            recipient_name="Mara Manager",
            to_address=ADDRESS,
            digest_key="d1",
            entries=[("One update", "https://crafting.example/agreements/a-1")] * 3,
            now=NOW,
        ),
        "signin": lambda env: c.compose_signin(
            env,
            LETTERHEAD,
            recipient_name="Mara Manager",
            to_address=ADDRESS,
            link="https://crafting.example/signin/abc",
            now=NOW,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=300, help="mails of each kind")
    parser.add_argument("--bytes", action="store_true", help="also write each to bytes")
    parser.add_argument("--profile", help="write a cProfile here")
    parser.add_argument("--interleave", action="store_true", help="A/B in one process")
    args = parser.parse_args()
    env = c.environment()
    made = cases()
    if args.interleave:
        interleave(env, list(made.values()), args.n)
        return

    def send(message: Any) -> None:
        message.get_body(("plain",)).get_content()  # the dispatcher's erased-text check
        if args.bytes:
            message.as_bytes()

    for run in made.values():  # warm: templates compiled, headers parsed
        send(run(env))
    profile = cProfile.Profile(time.process_time) if args.profile else None
    total = 0.0
    for name, run in made.items():
        if profile:
            profile.enable()
        start = time.process_time()
        for _ in range(args.n):
            send(run(env))
        spent = time.process_time() - start
        if profile:
            profile.disable()
        total += spent
        print(f"{name:12} {spent / args.n * 1000:.3f} ms per mail")
    print(f"{'all':12} {total / (args.n * len(made)) * 1000:.3f} ms per mail")
    if profile:
        profile.dump_stats(args.profile)


def interleave(env: Any, made: list[Callable[[Any], Any]], n: int) -> None:
    inlined_once, headers = c._inlined_template, c._HEADERS

    def per_message(env: Any, name: str) -> None:
        return None

    def run(inline: Any, forget_date: bool) -> float:
        c._inlined_template = inline  # type: ignore[assignment]
        start = time.process_time()
        for _ in range(max(1, n // 10)):
            for compose in made:
                if forget_date:
                    headers._last_date = None
                compose(env).get_body(("plain",)).get_content()
        return time.process_time() - start

    variants = {
        "as before (each message inlined, Date parsed)": (per_message, True),
        "templates inlined once": (inlined_once, True),
        "templates inlined once, Date kept": (inlined_once, False),
    }
    spent = dict.fromkeys(variants, 0.0)
    for round_ in range(20):
        order = list(variants) if round_ % 2 else list(reversed(variants))
        for name in order:
            spent[name] += run(*variants[name])
    c._inlined_template = inlined_once
    mails = 20 * max(1, n // 10) * len(made)
    for name, seconds in spent.items():
        print(f"{name:48} {seconds / mails * 1000:.3f} ms per mail")


if __name__ == "__main__":
    main()
