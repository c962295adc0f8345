"""Webhook signatures, checked against the `standardwebhooks` library; the address
guard; the retry schedule."""

from __future__ import annotations

import ipaddress
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from infra.webhooks.guard import is_public
from infra.webhooks.secrets import key_of, new_secret
from infra.webhooks.sender import DeliveryConfig
from infra.webhooks.signature import headers


def test_a_signed_delivery_verifies_with_the_standard_library() -> None:
    secret = new_secret()
    body = b'{"type":"Proposed","position":7}'
    sent = headers([key_of(secret)], "evt_1_1", int(time.time()), body)
    assert Webhook(secret).verify(body, sent) == {"type": "Proposed", "position": 7}


def test_a_changed_body_id_or_timestamp_fails_verification() -> None:
    secret = new_secret()
    now = int(time.time())
    sent = headers([key_of(secret)], "evt_1_1", now, b"{}")
    for body, changed in (
        (b'{"x":1}', {}),
        (b"{}", {"webhook-id": "evt_1_2"}),
        (b"{}", {"webhook-timestamp": str(now + 1)}),
    ):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, sent | changed)


def test_with_two_secrets_either_one_verifies() -> None:
    old, new = new_secret(), new_secret()
    sent = headers([key_of(new), key_of(old)], "evt_1_1", int(time.time()), b"{}")
    assert sent["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        Webhook(secret).verify(b"{}", sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(b"{}", sent)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_retries_back_off_exponentially_with_jitter_up_to_the_maximum() -> None:
    config = DeliveryConfig(retry_min_seconds=1, retry_max_seconds=60)
    for attempts, ceiling in ((1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)):
        delays = {config.backoff(attempts) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
