"""Who speaks for a class: the ambassador roles, and who an ambassador's link says they are.

An ambassador is an alum with a role for their own class year (``Ambassador``: from the
import's ``ambassador`` column, or ``add_ambassador``). Everything an ambassador does on their
class page takes the class from their ``AmbassadorIdentity``, which is read from the role's row
named by their signed link (``alumni.messages.ambassador_links``), never from a form: a role
removed is a link that names nobody, and ``check_scope`` refuses anything of another class.

Errors::

    AmbassadorError(ValueError)   an alum, class or value that is wrong, and what to do
    └── ScopeError                outside the ambassador's own class: nothing was changed
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Alumnus, AlumnusStatus, Ambassador, table_of

__all__ = [
    "AmbassadorError",
    "AmbassadorIdentity",
    "AmbassadorRow",
    "ScopeError",
    "add_ambassador",
    "ambassador_id_of",
    "ambassadors_of",
    "check_scope",
    "class_of_ambassador",
    "find_alumnus",
    "identity_of",
    "list_ambassadors",
    "remove_ambassador",
]

_A = table_of(Alumnus)
_AM = table_of(Ambassador)
# Nobody the office may not write to, or who is gone, speaks for a class.
_NOT_AMBASSADORS = (AlumnusStatus.deceased, AlumnusStatus.erased, AlumnusStatus.do_not_contact)


class AmbassadorError(ValueError):
    """An ambassador operation refused; the message names what is wrong and what to do."""


class ScopeError(AmbassadorError):
    """Something of another class than the ambassador's own: refused, nothing changed."""


@dataclass(frozen=True)
class AmbassadorIdentity:
    """Who is acting, as their signed link names them: the class is the role's, always."""

    ambassador_id: int  # the Ambassador row
    alumnus_id: int
    class_year: int
    first_name: str
    locale: str | None
    timezone: str | None


@dataclass(frozen=True)
class AmbassadorRow:
    """One role as ``alumni ambassador list`` shows it."""

    ambassador_id: int
    alumnus_id: int
    external_id: str
    name: str
    class_year: int
    since: datetime


def ambassadors_of(connection: Connection, class_year: int) -> list[int]:
    """The alumnus ids of the class's ambassadors who may still act (not deceased, erased or
    do-not-contact), in id order."""
    return list(
        connection.execute(
            sa.select(_AM.c.alumnus_id)
            .join(_A, _A.c.id == _AM.c.alumnus_id)
            .where(_AM.c.class_year == class_year, _A.c.status.not_in(_NOT_AMBASSADORS))
            .order_by(_AM.c.alumnus_id)
        ).scalars()
    )


def class_of_ambassador(connection: Connection, alumnus_id: int) -> int | None:
    """The class year ``alumnus_id`` is an ambassador of, or None when they are not one (an
    alum holds a role for their own class only; the earliest role wins if data says more)."""
    found = connection.execute(
        sa.select(_AM.c.class_year)
        .join(_A, _A.c.id == _AM.c.alumnus_id)
        .where(_AM.c.alumnus_id == alumnus_id, _A.c.status.not_in(_NOT_AMBASSADORS))
        .order_by(_AM.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def ambassador_id_of(connection: Connection, alumnus_id: int) -> int | None:
    """The id of the ``Ambassador`` row of the alum's role (what their link signs), or None."""
    found = connection.execute(
        sa.select(_AM.c.id).where(_AM.c.alumnus_id == alumnus_id).order_by(_AM.c.id).limit(1)
    ).scalar()
    return None if found is None else int(found)


def identity_of(connection: Connection, ambassador_id: int) -> AmbassadorIdentity | None:
    """Who the role ``ambassador_id`` is, or None: the role was removed (an ex-ambassador's
    link), or its alum may no longer act (deceased, erased, do-not-contact)."""
    row = connection.execute(
        sa.select(
            _AM.c.id,
            _AM.c.alumnus_id,
            _AM.c.class_year,
            _A.c.first_name,
            _A.c.locale,
            _A.c.timezone,
            _A.c.status,
        )
        .join(_A, _A.c.id == _AM.c.alumnus_id)
        .where(_AM.c.id == ambassador_id)
    ).first()
    if row is None or row.status in _NOT_AMBASSADORS:
        return None
    return AmbassadorIdentity(
        row.id, row.alumnus_id, row.class_year, row.first_name, row.locale, row.timezone
    )


def check_scope(identity: AmbassadorIdentity, class_year: int, what: str) -> None:
    """Refuse ``what`` (e.g. "campaign 12") when it belongs to another class.

    Raises:
        ScopeError: ``class_year`` is not the ambassador's class.
    """
    if class_year != identity.class_year:
        raise ScopeError(
            f"{what} belongs to another class than {identity.class_year}: an ambassador acts "
            "for their own class only; nothing was changed"
        )


def _alum(connection: Connection, external_id: str) -> sa.Row[tuple[int, int, str]]:
    row = connection.execute(
        sa.select(_A.c.id, _A.c.class_year, _A.c.status).where(
            _A.c.external_id == external_id.strip()
        )
    ).first()
    if row is None:
        raise AmbassadorError(
            f"no alum has external id {external_id!r}: check it in the alumni file "
            "(`alumni import` loads it)"
        )
    return row  # type: ignore[return-value]


def find_alumnus(connection: Connection, external_id: str) -> int:
    """The database id of the alum with ``external_id``.

    Raises:
        AmbassadorError: no alum has it.
    """
    return int(_alum(connection, external_id).id)


def add_ambassador(connection: Connection, external_id: str, *, now: datetime) -> int:
    """Make the alum an ambassador of their own class; return the role's id (the same role
    when they already are one).

    Raises:
        AmbassadorError: no such alum, or one who is deceased, erased or asked not to be
            contacted.
    """
    alum = _alum(connection, external_id)
    if alum.status in _NOT_AMBASSADORS:
        raise AmbassadorError(
            f"alum {external_id!r} is {alum.status}: an ambassador must be someone we may "
            "write to; choose another classmate"
        )
    found = connection.execute(
        sa.select(_AM.c.id).where(_AM.c.alumnus_id == alum.id, _AM.c.class_year == alum.class_year)
    ).scalar()
    if found is not None:
        return int(found)
    return int(
        connection.execute(
            sa.insert(_AM)
            .values(alumnus_id=alum.id, class_year=alum.class_year, since=now)
            .returning(_AM.c.id)
        ).scalar_one()
    )


def remove_ambassador(connection: Connection, external_id: str) -> int:
    """End the alum's ambassador roles; return how many ended (0: they had none). Their
    links stop working at once.

    Raises:
        AmbassadorError: no such alum.
    """
    alum = _alum(connection, external_id)
    return connection.execute(sa.delete(_AM).where(_AM.c.alumnus_id == alum.id)).rowcount


def list_ambassadors(connection: Connection, class_year: int | None = None) -> list[AmbassadorRow]:
    """Every role (of one class when given), by class then name."""
    query = (
        sa.select(
            _AM.c.id,
            _AM.c.alumnus_id,
            _A.c.external_id,
            _A.c.first_name,
            _A.c.last_name,
            _AM.c.class_year,
            _AM.c.since,
        )
        .join(_A, _A.c.id == _AM.c.alumnus_id)
        .order_by(_AM.c.class_year, _A.c.last_name, _A.c.first_name, _AM.c.id)
    )
    if class_year is not None:
        query = query.where(_AM.c.class_year == class_year)
    return [
        AmbassadorRow(
            r.id,
            r.alumnus_id,
            r.external_id,
            f"{r.first_name} {r.last_name}".strip(),
            r.class_year,
            r.since,
        )
        for r in connection.execute(query)
    ]
