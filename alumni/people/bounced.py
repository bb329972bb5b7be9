"""What a bounce does to an email address: a hard bounce makes its contact point ``invalid`` and
puts it on the suppression list; a soft one marks the contact point ``bouncing``.

One rule for the bounces an SMTP server gives at once (``alumni.delivery.ledger``) and the ones
that come back later by mail (``alumni.tracking``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ContactKind, ContactPoint, ContactStatus, table_of
from alumni.people.suppression import suppress

__all__ = ["mark_hard_bounce", "mark_soft_bounce"]

_CP = table_of(ContactPoint)


def _current(address: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _CP.c.kind == ContactKind.email, _CP.c.value == address, _CP.c.superseded_at.is_(None)
    )


def mark_hard_bounce(
    connection: Connection, address: str, *, signing_key: bytes | None = None
) -> bool:
    """Suppress the address for good (reason ``hard_bounce``) and make its current contact
    point ``invalid``. Return False if it was already suppressed.

    Args:
        connection: a connection inside a write transaction.
        signing_key: as for ``alumni.people.suppression.suppress``.
    """
    added = suppress(
        connection, kind="email", value=address, reason="hard_bounce", signing_key=signing_key
    )
    connection.execute(sa.update(_CP).where(_current(address)).values(status=ContactStatus.invalid))
    return added


def mark_soft_bounce(connection: Connection, address: str) -> bool:
    """Mark the address's current contact point ``bouncing`` unless it is already known to be
    worse (``invalid``, ``suspect``). Return True if a row changed."""
    result = connection.execute(
        sa.update(_CP)
        .where(_current(address), _CP.c.status == ContactStatus.ok)
        .values(status=ContactStatus.bouncing)
    )
    return result.rowcount > 0
