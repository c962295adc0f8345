"""Sign-in links by e-mail: the person's address is read (opened) when the mail is
sent, only for someone active and not erased; the link itself is never stored."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from domain.sealing import opened_in
from infra.notifications.compose import compose_signin
from infra.notifications.facts import Card
from infra.notifications.service import Notifications
from infra.notifications.transport import Outcome, ServerUnavailable
from projections.queries import live_read_model

log = logging.getLogger(__name__)


def card_of(notifications: Notifications, person_id: str) -> Card | None:
    """The person's name and address, opened now; None when unknown."""
    d = notifications.dispatcher
    d.forget_keys()
    with notifications.reader.connect() as conn:
        rm = live_read_model(conn)
        row = (
            conn.execute(
                select(
                    rm.people.c.display_name,
                    rm.people.c.email,
                    rm.people.c.active,
                    rm.people.c.erased,
                ).where(rm.people.c.person_id == person_id)
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    found = dict(row) if d.keys is None else opened_in(dict(row), d.keys)
    return Card(person_id, found["display_name"], found["email"], found["active"], found["erased"])


def manages_anyone(notifications: Notifications, person_id: str) -> bool:
    """Whether anyone active reports to the person (then they sign in as a manager)."""
    with notifications.reader.connect() as conn:
        rm = live_read_model(conn)
        count = conn.execute(
            select(func.count()).where(
                rm.people.c.manager_id == person_id, rm.people.c.active.is_(True)
            )
        ).scalar_one()
    return int(count) > 0


def send_signin_link(notifications: Notifications, card: Card, link: str) -> bool:
    """Mail `link` to the person; whether the server took it (failures are logged
    without the address or the link)."""
    d = notifications.dispatcher
    message = compose_signin(
        d.env, d.letterhead, recipient_name=card.name, to_address=card.email, link=link
    )
    try:
        connection = d.transport.open()
        try:
            result = connection.send(message, card.email)
        finally:
            connection.close()
    except ServerUnavailable as error:
        log.warning("sign-in e-mail not sent: %s", error)
        return False
    if result.outcome != Outcome.SENT:
        log.warning("sign-in e-mail refused: %s", result.error)
    return result.outcome == Outcome.SENT
