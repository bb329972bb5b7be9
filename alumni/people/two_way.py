"""The last two-way contact of each alum: when they last answered us, and on which channel.

A reply, a click, an RSVP, a form sent or a confirmed detail counts; an auto-reply or a bounce
does not (nobody answered). The reach reports read ``Alumnus.last_two_way_at``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Alumnus, table_of

__all__ = ["TWO_WAY_CHANNELS", "note_two_way"]

# email: a reply or a calendar answer by mail; web: a click, a form or a page of ours;
# mastodon / bluesky: a reply to a post; officer: by phone or letter, logged by an officer.
TWO_WAY_CHANNELS = ("email", "web", "mastodon", "bluesky", "officer")

_A = table_of(Alumnus)


def note_two_way(connection: Connection, alumnus_id: int, *, at: datetime, channel: str) -> bool:
    """Record that the alum answered at ``at`` on ``channel`` unless a later answer is known.

    Safe to call again with the same answer (handling a message twice changes nothing).
    Return True if it moved the alum's last two-way contact.

    Raises:
        ValueError: an unknown channel, or a naive ``at``.
    """
    if channel not in TWO_WAY_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: use one of {', '.join(TWO_WAY_CHANNELS)}")
    if at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: pass an aware datetime")
    result = connection.execute(
        sa.update(_A)
        .where(
            _A.c.id == alumnus_id,
            sa.or_(_A.c.last_two_way_at.is_(None), _A.c.last_two_way_at < at),
        )
        .values(last_two_way_at=at, last_two_way_channel=channel)
    )
    return result.rowcount > 0
