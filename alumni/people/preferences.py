"""What each alum chose on their preference page: which channels, how often, and a pause.

One ``Preference`` row per alum; no row means every message on every channel. The planner
(``alumni.delivery.audience``) honours the choice in every campaign planned from then on;
service messages (about the alum's own requests and answers) go whatever they chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from alumni.models import ContactPoint, Frequency, Preference, table_of

__all__ = [
    "CHANNELS",
    "EVERY_MESSAGE",
    "Choice",
    "offered_channels",
    "read_choice",
    "save_choice",
]

# The channels the office's per-alum messages use; an event mailing is an email too, and a
# Mastodon direct message is the hear-from-you for an alum with no working email. Bluesky is
# not offered: it has no direct messages, so the choice would do nothing.
CHANNELS: Final = ("email", "mastodon")

_P = table_of(Preference)
_CP = table_of(ContactPoint)


@dataclass(frozen=True, slots=True)
class Choice:
    """An alum's choice: channels they accept, how often, and until when nothing but service."""

    channels: frozenset[str]
    frequency: Frequency
    paused_until: datetime | None  # aware; messages may go again from this moment


EVERY_MESSAGE: Final = Choice(frozenset(CHANNELS), Frequency.every, None)


def offered_channels(connection: Connection, alumnus_id: int) -> tuple[str, ...]:
    """The channels the alum's page offers, in ``CHANNELS`` order: email always, and a network
    only when the alum has a current handle there (a box for Mastodon would puzzle someone
    who has no account). What a page does not offer keeps what the alum had chosen before."""
    kinds = set(
        connection.execute(
            sa.select(_CP.c.kind).where(
                _CP.c.alumnus_id == alumnus_id,
                _CP.c.superseded_at.is_(None),
                _CP.c.kind.in_(CHANNELS),
            )
        ).scalars()
    )
    return tuple(c for c in CHANNELS if c == "email" or c in kinds)


def read_choice(connection: Connection, alumnus_id: int) -> Choice:
    """Return what the alum chose, or ``EVERY_MESSAGE`` when they never chose."""
    row = connection.execute(
        sa.select(_P.c.channels, _P.c.frequency, _P.c.paused_until).where(
            _P.c.alumnus_id == alumnus_id
        )
    ).first()
    if row is None:
        return EVERY_MESSAGE
    channels = frozenset(name for name in row.channels.split(",") if name)
    return Choice(channels, Frequency(row.frequency), row.paused_until)


def save_choice(connection: Connection, alumnus_id: int, choice: Choice, *, now: datetime) -> None:
    """Store the alum's choice in place of any earlier one (inside a write transaction).

    Raises:
        ValueError: a channel not in ``CHANNELS``, or a naive ``paused_until``.
    """
    unknown = sorted(choice.channels - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown channels {', '.join(unknown)}: use {', '.join(CHANNELS)}")
    if choice.paused_until is not None and choice.paused_until.utcoffset() is None:
        raise ValueError(f"paused_until {choice.paused_until.isoformat()} has no time zone")
    values = {
        "channels": ",".join(name for name in CHANNELS if name in choice.channels),
        "frequency": choice.frequency.value,
        "paused_until": choice.paused_until,
        "updated_at": now,
    }
    # ON CONFLICT: two saves of the same alum at once must end with one row, the later one.
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(_P)
        .values(alumnus_id=alumnus_id, **values)
        .on_conflict_do_update(index_elements=[_P.c.alumnus_id], set_=values)
    )
