"""The topics events and snapshots are stored under are part of the stored format:
they are hashed into the chains and read by exporters, so moving code must not change
them (domain.agreement.topics)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from domain.agreement import Agreement
from domain.agreement import events as ev
from domain.directory_guard import DeactivationGuard
from domain.idempotency import IdempotencyRecord
from domain.ledger import HoursLedger
from domain.person import Person
from domain.webhooks import WebhookSubscription

AGREEMENT_EVENTS = [
    "AdjustmentAdded",
    "Approved",
    "ArtifactRecorded",
    "ChangeReverted",
    "ChangesRequested",
    "Completed",
    "GuardrailsChanged",
    "Paused",
    "ProposalRevised",
    "Proposed",
    "Rejected",
    "Resumed",
    "ReviewRecorded",
    "SketchChanged",
    "TaskReallocated",
    "Withdrawn",
]
STORED = {
    "domain.agreement:Agreement": Agreement,
    "domain.agreement:Agreement.Snapshot": Agreement.Snapshot,
    **{f"domain.agreement_events:{name}": getattr(ev, name) for name in AGREEMENT_EVENTS},
    "domain.person:Person": Person,
    "domain.person:Person.Registered": Person.Registered,
    "domain.person:Person.ProfileChanged": Person.ProfileChanged,
    "domain.person:Person.ProvisioningChanged": Person.ProvisioningChanged,
    "domain.directory_guard:DeactivationGuard": DeactivationGuard,
    "domain.directory_guard:DeactivationGuard.Opened": DeactivationGuard.Opened,
    "domain.directory_guard:DeactivationGuard.DeactivationsCounted": (
        DeactivationGuard.DeactivationsCounted
    ),
    "domain.directory_guard:DeactivationGuard.DeactivationsHeld": (
        DeactivationGuard.DeactivationsHeld
    ),
    "domain.directory_guard:DeactivationGuard.HoldReleased": DeactivationGuard.HoldReleased,
    "domain.ledger:HoursLedger": HoursLedger,
    "domain.ledger:HoursLedger.Opened": HoursLedger.Opened,
    "domain.ledger:HoursLedger.Booked": HoursLedger.Booked,
    "domain.ledger:HoursLedger.Released": HoursLedger.Released,
    "domain.idempotency:IdempotencyRecord": IdempotencyRecord,
    "domain.idempotency:IdempotencyRecord.Recorded": IdempotencyRecord.Recorded,
    "domain.webhooks:WebhookSubscription": WebhookSubscription,
    **{
        f"domain.webhooks:WebhookSubscription.{name}": getattr(WebhookSubscription, name)
        for name in ("Created", "Paused", "Resumed", "Disabled", "Deleted", "SecretRotated")
    },
}


@pytest.mark.parametrize("topic", sorted(STORED))
def test_each_stored_class_keeps_its_topic(topic: str) -> None:
    assert get_topic(STORED[topic]) == topic
    assert resolve_topic(topic) is STORED[topic]


def test_every_agreement_event_is_listed() -> None:
    assert sorted(c.__name__ for c in ev.AgreementEvent.__subclasses__()) == AGREEMENT_EVENTS


def test_a_new_process_resolves_the_stored_topics_by_loading_the_application() -> None:
    # What a reader of the store imports (the application) is enough to read old events.
    script = (
        "import domain.application\n"
        "from eventsourcing.utils import resolve_topic\n"
        "print(resolve_topic('domain.agreement_events:Proposed').__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "Proposed"
