"""An alum's own contact details, confirmed or corrected by the alum (the "still yours?" page).

Confirming a detail marks it verified now, status ok, with the source ``confirmed by alum;
first from <where it came from>`` (``CONFIRMED``). Correcting one keeps the old contact point
as history (``superseded_at``), as the import does, and adds the new value with
``source = "alum:web"``, verified now; the value is checked and normalised by
``alumni.people.validation`` exactly like a spreadsheet cell.

Errors::

    DetailGone      the detail is no longer one of the alum's current details (changed since
                    the page was opened, or never theirs)
    InvalidDetail   (a ValueError) a corrected value that is not a valid address or handle
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ContactKind, ContactPoint, ContactStatus, table_of
from alumni.people.validation import (
    normalise_bluesky,
    normalise_email,
    normalise_mastodon,
    normalise_phone,
)

__all__ = [
    "CONFIRMED",
    "KINDS",
    "SOURCE",
    "Detail",
    "DetailGone",
    "InvalidDetail",
    "confirm_detail",
    "correct_detail",
    "current_details",
    "normalise_detail",
]

SOURCE: Final = "alum:web"
# A confirmed detail's source starts so; where it first came from follows ("; first from ...").
CONFIRMED: Final = "confirmed by alum"
# The order a person reads their details in.
KINDS: Final = (ContactKind.email, ContactKind.phone, ContactKind.mastodon, ContactKind.bluesky)

_CP = table_of(ContactPoint)


class DetailGone(LookupError):
    """The detail is not one of the alum's current details (any more)."""

    def __init__(self, alumnus_id: int, detail_id: int) -> None:
        super().__init__(
            f"contact point {detail_id} is not a current detail of alumnus {alumnus_id}: it was "
            "corrected since, or belongs to someone else"
        )
        self.detail_id = detail_id


class InvalidDetail(ValueError):
    """A corrected value that cannot be used for its kind; ``kind`` says which kind."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"the new {kind} {reason}")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Detail:
    """One current contact detail of an alum."""

    id: int
    kind: str
    value: str
    label: str | None  # phone: mobile / landline / ...
    status: str
    verified_at: datetime | None


def current_details(connection: Connection, alumnus_id: int) -> list[Detail]:
    """Return the alum's current (not superseded) details, email first, then phone, handles."""
    rows = connection.execute(
        sa.select(
            _CP.c.id, _CP.c.kind, _CP.c.value, _CP.c.label, _CP.c.status, _CP.c.verified_at
        ).where(_CP.c.alumnus_id == alumnus_id, _CP.c.superseded_at.is_(None))
    )
    order = {kind.value: place for place, kind in enumerate(KINDS)}
    details = [Detail(r.id, r.kind, r.value, r.label, r.status, r.verified_at) for r in rows]
    return sorted(details, key=lambda d: (order.get(d.kind, len(order)), d.id))


def normalise_detail(kind: str, value: str, *, country: str | None) -> tuple[str, str | None]:
    """Return (value as stored, label) for a detail of ``kind``, as the import stores it.

    Args:
        country: the alum's ISO 3166 country, for a phone number written without ``+``.

    Raises:
        ValueError: the value is not valid for its kind; the message says why, in English.
    """
    value = value.strip()
    if kind == ContactKind.email:
        return normalise_email(value), None
    if kind == ContactKind.phone:
        return normalise_phone(value, country)
    if kind == ContactKind.mastodon:
        return normalise_mastodon(value), None
    if kind == ContactKind.bluesky:
        return normalise_bluesky(value), None
    raise ValueError(f"unknown kind of contact detail {kind!r}")


def _held(connection: Connection, alumnus_id: int, detail_id: int) -> Detail:
    row = connection.execute(
        sa.select(
            _CP.c.id, _CP.c.kind, _CP.c.value, _CP.c.label, _CP.c.status, _CP.c.verified_at
        ).where(
            _CP.c.id == detail_id, _CP.c.alumnus_id == alumnus_id, _CP.c.superseded_at.is_(None)
        )
    ).first()
    if row is None:
        raise DetailGone(alumnus_id, detail_id)
    return Detail(row.id, row.kind, row.value, row.label, row.status, row.verified_at)


def confirm_detail(
    connection: Connection, alumnus_id: int, detail_id: int, *, now: datetime
) -> Detail:
    """Mark one of the alum's current details verified at ``now``, status ok, source
    ``confirmed by alum; first from ...`` (kept as it is when it says so already).

    Run inside a write transaction.

    Raises:
        DetailGone: it is not a current detail of this alum.
    """
    held = _held(connection, alumnus_id, detail_id)
    source = connection.execute(sa.select(_CP.c.source).where(_CP.c.id == held.id)).scalar_one()
    if not source.startswith(CONFIRMED):
        source = f"{CONFIRMED}; first from {source}"[:200]
    connection.execute(
        sa.update(_CP)
        .where(_CP.c.id == held.id)
        .values(verified_at=now, status=ContactStatus.ok.value, source=source)
    )
    return Detail(held.id, held.kind, held.value, held.label, ContactStatus.ok.value, now)


def correct_detail(
    connection: Connection,
    alumnus_id: int,
    detail_id: int,
    value: str,
    *,
    now: datetime,
    country: str | None,
) -> Detail:
    """Replace one of the alum's details with ``value``; the old one is kept as history.

    The same value as held (after normalising) only confirms it. Run inside a write transaction.

    Raises:
        DetailGone: it is not a current detail of this alum (e.g. corrected at the same time
            from another window: the first correction wins, the second changes nothing).
        InvalidDetail: ``value`` is not valid for the detail's kind (nothing is changed).
    """
    held = _held(connection, alumnus_id, detail_id)
    try:
        new_value, label = normalise_detail(held.kind, value, country=country)
    except ValueError as exc:
        raise InvalidDetail(held.kind, str(exc)) from None
    if new_value == held.value:
        return confirm_detail(connection, alumnus_id, detail_id, now=now)
    superseded = connection.execute(
        sa.update(_CP)
        .where(_CP.c.id == held.id, _CP.c.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    if superseded.rowcount != 1:
        raise DetailGone(alumnus_id, detail_id)
    new_id = connection.execute(
        sa.insert(_CP)
        .values(
            alumnus_id=alumnus_id,
            kind=held.kind,
            value=new_value,
            label=label,
            source=SOURCE,
            verified_at=now,
            status=ContactStatus.ok.value,
            created_at=now,
        )
        .returning(_CP.c.id)
    ).scalar_one()
    return Detail(int(new_id), held.kind, new_value, label, ContactStatus.ok.value, now)
