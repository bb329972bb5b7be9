"""Tie a message from the mailbox to what it answers: one of our deliveries, or an alum.

Only what a stranger cannot make up ties a message to a delivery: a return-path token that
reads back with the signing key, or a Message-ID we wrote. A bare ``d123`` or a token with a
wrong MAC ties nothing. The sender's address ties a message to an alum only, never to a
delivery, and is not used where suppressing an address depends on the match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.messages.signing import BadToken, read_return_token
from alumni.models import ContactPoint, Delivery, table_of

__all__ = ["Matched", "alumnus_by_address", "by_message_id", "by_return_token", "delivery"]

_D = table_of(Delivery)
_CP = table_of(ContactPoint)


@dataclass(frozen=True)
class Matched:
    """The delivery a message answers, and how we know."""

    delivery_id: int
    campaign_id: int
    alumnus_id: int
    address: str | None  # where the delivery went
    channel: str
    how: str  # token / message-id / unsubscribe-token


def delivery(connection: Connection, delivery_id: int, *, how: str) -> Matched | None:
    """The delivery with this id, or None when it is gone."""
    row = connection.execute(
        sa.select(_D.c.id, _D.c.campaign_id, _D.c.alumnus_id, _D.c.address, _D.c.channel).where(
            _D.c.id == delivery_id
        )
    ).first()
    if row is None:
        return None
    return Matched(row.id, row.campaign_id, row.alumnus_id, row.address, row.channel, how)


def by_return_token(connection: Connection, tokens: Iterable[str], key: bytes) -> Matched | None:
    """The delivery of the first token that reads back with ``key`` and still exists."""
    for token in tokens:
        try:
            delivery_id = read_return_token(key, token)
        except BadToken:
            continue
        found = delivery(connection, delivery_id, how="token")
        if found is not None:
            return found
    return None


def by_message_id(connection: Connection, message_ids: Iterable[str]) -> Matched | None:
    """The delivery that carried the first of these Message-IDs that is one of ours."""
    for message_id in message_ids:
        row = connection.execute(sa.select(_D.c.id).where(_D.c.message_id == message_id)).first()
        if row is not None:
            return delivery(connection, row.id, how="message-id")
    return None


def alumnus_by_address(connection: Connection, address: str | None) -> int | None:
    """The alum whose current email is ``address`` (any case); None when nobody's, or when
    several alumni share it (we cannot tell who wrote)."""
    if not address:
        return None
    owners = set(
        connection.execute(
            sa.select(_CP.c.alumnus_id).where(
                _CP.c.kind == "email",
                sa.func.lower(_CP.c.value) == address.lower(),
                _CP.c.superseded_at.is_(None),
            )
        ).scalars()
    )
    return owners.pop() if len(owners) == 1 else None
