"""What the desk shows an officer: one request with its deadlines and audit trail
(``alumni request show``), and the open requests, breaches first (``alumni request list``).

Deadlines come from the request's type (``requests.toml``) and the SLA clock
(``alumni.requests.deadlines``), as ISO date-times, null where none applies. A deadline is
breached when it is due at or before ``now``.

Confidentiality: the content of a confidential request (welfare; a type no longer in
``requests.toml`` too, to be safe) is shown only to the named officers
(``ALUMNI_WELFARE_OFFICERS``). Anyone else sees its id, type, status, age, owner and deadlines,
"(confidential)" for its summary, and its audit trail without the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Alumnus, Request, RequestEvent, RequestPause, RequestStatus, table_of
from alumni.requests.clock import BusinessCalendar
from alumni.requests.deadlines import deadlines_of
from alumni.requests.types import RequestType
from alumni.settings import get_settings

__all__ = ["CONFIDENTIAL", "DEADLINE_KEYS", "list_requests", "request_view"]

CONFIDENTIAL = "(confidential)"
DEADLINE_KEYS = ("first_response_due", "next_update_due", "resolution_due")

_A = table_of(Alumnus)
_ASKED = _A.alias("asked")
_Q = table_of(Request)
_E = table_of(RequestEvent)
_P = table_of(RequestPause)

Pauses = list[tuple[datetime, datetime | None]]


def request_view(
    connection: Connection,
    request_id: int,
    *,
    viewer: str | None,
    now: datetime,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    officers: frozenset[str] | None = None,
) -> dict[str, Any]:
    """One request as ``show --format json`` prints it: its fields, its deadlines
    (``first_response_due``, ``next_update_due``, ``resolution_due``: ISO or None), ``paused``,
    ``breached`` (the deadlines passed), and ``events``, its audit trail in order.

    Args:
        viewer: who looks (an officer's email); None: nobody named.
        officers: who may read confidential requests; None: ``ALUMNI_WELFARE_OFFICERS``.

    Raises:
        LookupError: no such request.
    """
    row = connection.execute(_select_requests().where(_Q.c.id == request_id)).first()
    if row is None:
        raise LookupError(f"request {request_id} does not exist; `alumni request list` lists them")
    shown = _may_read(row.type, types, viewer, officers)
    view = _view(
        row,
        types.get(row.type),
        _pauses_of(connection, [request_id]),
        shown,
        now=now,
        calendar=calendar,
    )
    view["events"] = [
        {
            "at": _iso(event.at),
            "actor": event.actor,
            "action": event.action,
            "detail": event.detail if shown or event.detail is None else CONFIDENTIAL,
            "to_alum": event.to_alum,
        }
        for event in connection.execute(
            sa.select(_E).where(_E.c.request_id == request_id).order_by(_E.c.at, _E.c.id)
        )
    ]
    return view


def open_requests_seen_by_nobody(
    connection: Connection,
    *,
    now: datetime,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
) -> list[dict[str, Any]]:
    """Every request not closed, as ``list_requests`` shows them to no named officer (so no
    confidential content is in them): what the desk's artifact and the owners' digests list."""
    return list_requests(
        connection,
        overdue=False,
        type=None,
        viewer=None,
        now=now,
        types=types,
        calendar=calendar,
        officers=frozenset(),
    )


def list_requests(
    connection: Connection,
    *,
    overdue: bool,
    type: str | None,
    viewer: str | None,
    now: datetime,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    officers: frozenset[str] | None = None,
) -> list[dict[str, Any]]:
    """The requests not closed (of ``type`` if given; with ``overdue`` only those with a
    deadline breached at ``now``), as ``request_view`` shows them without the audit trail:
    breaches first (the longest breached first), then the soonest due, then the oldest.

    Raises:
        ValueError: ``type`` is not one of ``types``.
    """
    # As of ``now``: those that had come by then and were not closed yet (``--as-of``).
    query = _select_requests().where(
        _Q.c.opened_at <= now, sa.or_(_Q.c.closed_at.is_(None), _Q.c.closed_at > now)
    )
    if type is not None:
        if type not in types:
            raise ValueError(f"request type {type!r} is not known: use one of {', '.join(types)}")
        query = query.where(_Q.c.type == type)
    rows = connection.execute(query.order_by(_Q.c.opened_at, _Q.c.id)).all()
    pauses = _pauses_of(connection, [row.id for row in rows])
    views = [
        _view(
            row,
            types.get(row.type),
            pauses,
            _may_read(row.type, types, viewer, officers),
            now=now,
            calendar=calendar,
        )
        for row in rows
    ]
    if overdue:
        views = [view for view in views if view["breached"]]
    return sorted(views, key=_urgency)


def _select_requests() -> sa.Select[Any]:
    return (
        sa.select(
            _Q,
            _A.c.external_id.label("alumnus"),
            _ASKED.c.external_id.label("asked_alumnus"),
        )
        .join(_A, _A.c.id == _Q.c.alumnus_id)
        .outerjoin(_ASKED, _ASKED.c.id == _Q.c.asked_alumnus_id)
    )


def _pauses_of(connection: Connection, request_ids: Iterable[int]) -> dict[int, Pauses]:
    found: dict[int, Pauses] = {}
    ids = list(request_ids)
    for start in range(0, len(ids), 1000):
        for pause in connection.execute(
            sa.select(_P.c.request_id, _P.c.started_at, _P.c.ended_at)
            .where(_P.c.request_id.in_(ids[start : start + 1000]))
            .order_by(_P.c.started_at)
        ):
            found.setdefault(pause.request_id, []).append((pause.started_at, pause.ended_at))
    return found


def _may_read(
    type: str, types: Mapping[str, RequestType], viewer: str | None, officers: frozenset[str] | None
) -> bool:
    rtype = types.get(type)
    if rtype is not None and not rtype.confidential:
        return True
    named = get_settings().welfare_officers if officers is None else officers
    return viewer is not None and viewer.strip().lower() in {o.lower() for o in named}


def _view(
    row: sa.Row[Any],
    rtype: RequestType | None,
    pauses: Mapping[int, Pauses],
    shown: bool,
    *,
    now: datetime,
    calendar: BusinessCalendar,
) -> dict[str, Any]:
    own_pauses = pauses.get(row.id, [])
    status = _status_as_of(row, own_pauses, now)
    due: dict[str, datetime | None] = dict.fromkeys(DEADLINE_KEYS)
    paused = status == RequestStatus.waiting
    if rtype is not None and status != RequestStatus.closed:
        deadlines = deadlines_of(row, rtype, calendar, own_pauses, now=now)
        due = {key: getattr(deadlines, key) for key in DEADLINE_KEYS}
        paused = deadlines.paused
    running = [when for when in due.values() if when is not None]
    view: dict[str, Any] = {
        "id": row.id,
        "type": row.type,
        "title": rtype.title if rtype is not None else row.type,
        "status": status.value,
        "owner": row.owner,
        "opened_at": _iso(row.opened_at),
        "age_hours": round(max((now - row.opened_at).total_seconds(), 0) / 3600, 1),
        "confidential": rtype is None or rtype.confidential,
        **{key: _iso(when) for key, when in due.items()},
        "next_due": _iso(min(running, default=None)),
        "paused": paused,
        "breached": [key.removesuffix("_due") for key, when in due.items() if when and when <= now],
        "escalation_level": row.escalation_level,
        "summary": row.summary if shown else CONFIDENTIAL,
    }
    if not shown:
        return view
    view.update(
        alumnus=row.alumnus,
        source=row.source,
        response_id=row.response_id,
        created_at=_iso(row.created_at),
        deadline=_iso(row.deadline),
        first_response_at=_iso(row.first_response_at),
        last_update_at=_iso(row.last_update_at),
        closed_at=_iso(row.closed_at),
        outcome=row.outcome,
        referee=row.referee,
        identity_checked_at=_iso(row.identity_checked_at),
        identity_checked_by=row.identity_checked_by,
        asked_alumnus=row.asked_alumnus,
        decision=row.decision,
        decision_reason=row.decision_reason,
    )
    return view


def _status_as_of(row: sa.Row[Any], pauses: Pauses, now: datetime) -> RequestStatus:
    """The request's status at ``now``, which may be past (``--as-of``): a close or a pause
    recorded later had not happened yet."""
    if row.closed_at is not None and row.closed_at <= now:
        return RequestStatus.closed
    if any(started <= now and (ended is None or ended > now) for started, ended in pauses):
        return RequestStatus.waiting
    if row.first_response_at is not None and row.first_response_at <= now:
        return RequestStatus.in_progress
    return RequestStatus.open


def _urgency(view: dict[str, Any]) -> tuple[bool, datetime, datetime, int]:
    due = [datetime.fromisoformat(view[key]) for key in DEADLINE_KEYS if view[key]]
    return (
        not view["breached"],
        min(due, default=datetime.max.replace(tzinfo=UTC)),
        datetime.fromisoformat(view["opened_at"]),
        view["id"],
    )


def _iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC (``2025-06-12T15:00:00+00:00``)."""
    return value.astimezone(UTC).isoformat() if value is not None else None
