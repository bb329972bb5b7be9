"""Which channels work for each alum, and who of a class has none (the lost-alumni list).

A channel works when the office could send on it today: an email address that is current (not
superseded), not ``invalid`` or ``suspect`` and not suppressed for every purpose; a Mastodon or
Bluesky handle that is current and not ``invalid`` or ``suspect``. Phone numbers are no channel:
nothing here sends on them. Only contactable alumni count (active or lost); the deceased, the
erased and those who asked not to be contacted are left out, not listed as lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from alumni.models import (
    Alumnus,
    AlumnusStatus,
    ContactKind,
    ContactPoint,
    ContactStatus,
    table_of,
)
from alumni.people.suppression import suppressed_scopes

CONTACTABLE = (AlumnusStatus.active.value, AlumnusStatus.lost.value)
WORKING_STATUSES = (ContactStatus.ok.value, ContactStatus.bouncing.value)
HANDLE_KINDS = (ContactKind.mastodon.value, ContactKind.bluesky.value)
_A = table_of(Alumnus)
_CP = table_of(ContactPoint)


@dataclass(frozen=True)
class LostAlum:
    """An alum the office cannot reach: who and which class only, never contact details."""

    alumnus_id: int
    display_name: str
    class_year: int


def working_channels(
    connection: sa.Connection, *, class_year: int | None = None
) -> dict[int, frozenset[str]]:
    """Every contactable alum (status active or lost; not deceased, erased, do_not_contact) of
    the class (all classes when None) -> the channels that work: "email" when a current
    (superseded_at IS NULL) email point has status ok or bouncing and is not suppressed for all
    purposes; "mastodon"/"bluesky" when a current handle is known (status ok or bouncing).
    Empty set: no working channel.

    Raises:
        WrongHashKey: the suppression list was made with another secret key.
    """
    alumni = sa.select(_A.c.id).where(_A.c.status.in_(CONTACTABLE))
    if class_year is not None:
        alumni = alumni.where(_A.c.class_year == class_year)
    found: dict[int, set[str]] = {row.id: set() for row in connection.execute(alumni)}
    points = (
        sa.select(_CP.c.alumnus_id, _CP.c.kind, _CP.c.value)
        .join(_A, _A.c.id == _CP.c.alumnus_id)
        .where(
            _A.c.status.in_(CONTACTABLE),
            _CP.c.superseded_at.is_(None),
            _CP.c.status.in_(WORKING_STATUSES),
            _CP.c.kind.in_((ContactKind.email.value, *HANDLE_KINDS)),
        )
    )
    if class_year is not None:
        points = points.where(_A.c.class_year == class_year)
    emails: list[tuple[int, str]] = []
    for row in connection.execute(points):
        if row.kind == ContactKind.email:
            emails.append((row.alumnus_id, row.value))
        else:
            found[row.alumnus_id].add(row.kind)
    if emails:
        scopes = suppressed_scopes(connection, {("email", value) for _, value in emails})
        for alumnus_id, value in emails:
            if "all" not in scopes.get(("email", value), set()):
                found[alumnus_id].add("email")
    return {alumnus_id: frozenset(channels) for alumnus_id, channels in found.items()}


def lost_classmates(connection: sa.Connection, class_year: int) -> list[LostAlum]:
    """Alumni of the class with no working channel (empty working_channels), by name.

    Raises:
        WrongHashKey: the suppression list was made with another secret key.
    """
    lost = [
        alumnus_id
        for alumnus_id, channels in working_channels(connection, class_year=class_year).items()
        if not channels
    ]
    if not lost:
        return []
    rows = connection.execute(
        sa.select(_A.c.id, _A.c.first_name, _A.c.last_name, _A.c.class_year)
        .where(_A.c.id.in_(lost))
        .order_by(_A.c.last_name, _A.c.first_name, _A.c.id)
    )
    return [
        LostAlum(
            alumnus_id=row.id,
            display_name=f"{row.first_name} {row.last_name}".strip(),
            class_year=row.class_year,
        )
        for row in rows
    ]
