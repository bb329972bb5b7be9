"""The request desk's operations: open, assign, note, wait, resume, close, decide, and the
steps of letters (a referee) and certificates (an identity check).

Every operation takes a connection inside a write transaction (``alumni.db.write_transaction``),
checks its input first (a refusal changes nothing), changes the request, appends its rows to the
audit trail (``RequestEvent``: who, what, when, and whether the alum was sent it), and on opening
and on every change of status asks ``alumni.requests.notices`` to plan the alum's notice.

Welfare requests: their summary, notes and reasons never appear in an error message.

Errors::

    DeskError(ValueError)   the request, field or value that is wrong, and what to do
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Alumnus, Request, RequestEvent, RequestPause, RequestStatus, table_of
from alumni.requests import notices

__all__ = [
    "DECISIONS",
    "OUTCOMES",
    "SOURCES",
    "SUMMARY_LIMIT",
    "DeskError",
    "add_note",
    "assign",
    "check_identity",
    "close",
    "decide_idea",
    "list_requests",
    "open_request",
    "request_view",
    "resume",
    "set_referee",
    "wait_on_alum",
]

OUTCOMES = ("resolved", "declined", "withdrawn")
DECISIONS = ("accepted", "declined", "planned")
SOURCES = ("reply", "web", "officer")
SUMMARY_LIMIT = 2000  # Request.summary
DETAIL_LIMIT = 4000  # RequestEvent.detail
_DEFAULT_TYPES = ("letter", "certificate", "referral", "welfare", "question", "idea")

_A = table_of(Alumnus)
_Q = table_of(Request)
_E = table_of(RequestEvent)
_P = table_of(RequestPause)


class DeskError(ValueError):
    """An operation the desk refuses; the message names the request, field or value and what
    to do. Nothing was changed."""


def open_request(
    connection: Connection,
    *,
    type: str,
    alumnus_id: int,
    summary: str,
    source: str,
    opened_at: datetime,
    now: datetime,
    actor: str,
    owner: str | None = None,
    deadline: datetime | None = None,
    response_id: int | None = None,
    types: Mapping[str, Any] | None = None,
) -> int:
    """Open a request, write its ``opened`` audit row and queue the alum's acknowledgement.

    Returns:
        The new request's id.

    Raises:
        DeskError: an unknown type, source or alum; an empty summary; a naive or future
            ``opened_at``; a ``deadline`` not after ``opened_at``.
    """
    known = tuple(types) if types is not None else _DEFAULT_TYPES
    if type not in known:
        raise DeskError(f"request type {type!r} is not known: use one of {', '.join(known)}")
    if source not in SOURCES:
        raise DeskError(f"source {source!r} is not known: use one of {', '.join(SOURCES)}")
    summary = summary.strip()
    if not summary:
        raise DeskError("the summary is empty: say in a few words what the alum asks for")
    if len(summary) > SUMMARY_LIMIT:
        raise DeskError(
            f"the summary has {len(summary)} characters, more than {SUMMARY_LIMIT}: shorten it "
            "and add the rest as a note"
        )
    _check_aware(opened_at, "opened_at")
    if opened_at > now:
        raise DeskError(
            f"opened_at {opened_at.isoformat()} is in the future: give when the request came"
        )
    if deadline is not None:
        _check_aware(deadline, "deadline")
        if deadline <= opened_at:
            raise DeskError(
                f"deadline {deadline.isoformat()} is not after the request came "
                f"({opened_at.isoformat()}): give the alum's own deadline, or none"
            )
    if owner is not None:
        owner = _email(owner, "owner")
    if connection.execute(sa.select(_A.c.id).where(_A.c.id == alumnus_id)).first() is None:
        raise DeskError(f"alumnus {alumnus_id} does not exist")
    request_id: int = connection.execute(
        sa.insert(_Q)
        .values(
            type=type,
            status=RequestStatus.open.value,
            alumnus_id=alumnus_id,
            summary=summary,
            owner=owner,
            source=source,
            response_id=response_id,
            opened_at=opened_at,
            last_update_at=opened_at,
            created_at=now,
            deadline=deadline,
        )
        .returning(_Q.c.id)
    ).scalar_one()
    _event(connection, request_id, now, actor, "opened", f"{type} from {source}")
    if owner is not None:
        _event(connection, request_id, now, actor, "assigned", owner)
    notices.queue_notice(connection, request_id, "ack", now=now)
    return request_id


def assign(
    connection: Connection, request_id: int, *, owner: str, actor: str, now: datetime
) -> None:
    """Give the request to ``owner`` (an officer's email)."""
    _open_row(connection, request_id)
    owner = _email(owner, "owner")
    connection.execute(sa.update(_Q).where(_Q.c.id == request_id).values(owner=owner))
    _event(connection, request_id, now, actor, "assigned", owner)


def add_note(
    connection: Connection, request_id: int, *, text: str, to_alum: bool, actor: str, now: datetime
) -> None:
    """Add an internal note, or (``to_alum``) a reply to the alum: that counts as the first
    response (the first time) and as an update, and queues the ``update`` notice."""
    text = text.strip()
    if not text:
        raise DeskError(f"request {request_id}: the note is empty; write what happened")
    if len(text) > DETAIL_LIMIT:
        raise DeskError(
            f"request {request_id}: the note has {len(text)} characters, more than "
            f"{DETAIL_LIMIT}; split it in two"
        )
    if to_alum:
        row = _open_row(connection, request_id)
        _spoke_to_alum(connection, row, now)
        _event(connection, request_id, now, actor, "reply", text, to_alum=True)
        notices.queue_notice(connection, request_id, "update", now=now)
    else:
        _row(connection, request_id)
        _event(connection, request_id, now, actor, "note", text)


def wait_on_alum(
    connection: Connection, request_id: int, *, actor: str, now: datetime, reason: str | None = None
) -> None:
    """Wait on the alum: the SLA clock stops until ``resume``; queues the ``waiting`` notice."""
    row = _open_row(connection, request_id)
    if row.status == RequestStatus.waiting:
        raise DeskError(
            f"request {request_id} already waits on the alum; `alumni request resume "
            f"{request_id}` when they answer"
        )
    _spoke_to_alum(connection, row, now, status=RequestStatus.waiting)
    connection.execute(sa.insert(_P).values(request_id=request_id, started_at=now))
    _event(connection, request_id, now, actor, "waiting", _optional(reason), to_alum=True)
    notices.queue_notice(connection, request_id, "waiting", now=now)


def resume(connection: Connection, request_id: int, *, actor: str, now: datetime) -> None:
    """The alum answered: the SLA clock runs again; queues the ``resumed`` notice."""
    row = _open_row(connection, request_id)
    if row.status != RequestStatus.waiting:
        raise DeskError(f"request {request_id} is not waiting on the alum: nothing to resume")
    _end_pause(connection, request_id, now)
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(status=RequestStatus.in_progress.value)
    )
    _event(connection, request_id, now, actor, "resumed", None)
    notices.queue_notice(connection, request_id, "resumed", now=now)


def close(
    connection: Connection,
    request_id: int,
    *,
    outcome: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Close the request as ``resolved``, ``declined`` or ``withdrawn``; queues ``closed``."""
    row = _row(connection, request_id)
    if row.status == RequestStatus.closed:
        raise DeskError(
            f"request {request_id} is already closed ({row.outcome}); nothing was changed"
        )
    if outcome not in OUTCOMES:
        raise DeskError(f"outcome {outcome!r} is not known: use one of {', '.join(OUTCOMES)}")
    _end_pause(connection, request_id, now)
    _spoke_to_alum(connection, row, now, status=RequestStatus.closed)
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(closed_at=now, outcome=outcome)
    )
    reason = _optional(reason)
    _event(
        connection,
        request_id,
        now,
        actor,
        "closed",
        f"{outcome}: {reason}" if reason else outcome,
        to_alum=True,
    )
    notices.queue_notice(connection, request_id, "closed", now=now)


def decide_idea(
    connection: Connection,
    request_id: int,
    *,
    decision: str,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """Record the decision on an idea and why; the alum is told (the ``decision`` notice)."""
    row = _open_row(connection, request_id)
    if row.type != "idea":
        raise DeskError(
            f"request {request_id} is a {row.type}, not an idea: only ideas are decided"
        )
    if decision not in DECISIONS:
        raise DeskError(f"decision {decision!r} is not known: use one of {', '.join(DECISIONS)}")
    reason = _optional(reason) or ""
    if not reason:
        raise DeskError(
            f"request {request_id}: give the reason for the decision; the alum is told it"
        )
    _spoke_to_alum(connection, row, now)
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(decision=decision, decision_reason=reason)
    )
    _event(connection, request_id, now, actor, "decision", f"{decision}: {reason}", to_alum=True)
    notices.queue_notice(connection, request_id, "decision", now=now)


def set_referee(
    connection: Connection, request_id: int, *, referee: str, actor: str, now: datetime
) -> None:
    """Name who writes a letter (an email)."""
    row = _open_row(connection, request_id)
    if row.type != "letter":
        raise DeskError(f"request {request_id} is a {row.type}: only letters have a referee")
    referee = _email(referee, "referee")
    connection.execute(sa.update(_Q).where(_Q.c.id == request_id).values(referee=referee))
    _event(connection, request_id, now, actor, "referee", referee)


def check_identity(connection: Connection, request_id: int, *, actor: str, now: datetime) -> None:
    """Record that the alum's identity was checked (certificates, before release)."""
    row = _open_row(connection, request_id)
    if row.type != "certificate":
        raise DeskError(
            f"request {request_id} is a {row.type}: only certificates have an identity check"
        )
    connection.execute(
        sa.update(_Q)
        .where(_Q.c.id == request_id)
        .values(identity_checked_at=now, identity_checked_by=actor)
    )
    _event(connection, request_id, now, actor, "identity_checked", None)


def request_view(
    connection: Connection,
    request_id: int,
    *,
    viewer: str | None,
    now: datetime,
    types: Mapping[str, Any],
    calendar: Any,
) -> dict[str, Any]:
    """One request as ``show --format json`` prints it."""
    row = _row(connection, request_id)
    view = {key: _plain(value) for key, value in row._mapping.items()}
    view.update(first_response_due=None, next_update_due=None, resolution_due=None)
    view["events"] = [
        {key: _plain(value) for key, value in event._mapping.items() if key != "request_id"}
        for event in connection.execute(
            sa.select(_E).where(_E.c.request_id == request_id).order_by(_E.c.at, _E.c.id)
        )
    ]
    return view


def list_requests(
    connection: Connection,
    *,
    overdue: bool,
    type: str | None,
    viewer: str | None,
    now: datetime,
    types: Mapping[str, Any],
    calendar: Any,
) -> list[dict[str, Any]]:
    """The requests not closed, breaches first."""
    query = sa.select(_Q.c.id).where(_Q.c.status != RequestStatus.closed.value).order_by(_Q.c.id)
    if type is not None:
        query = query.where(_Q.c.type == type)
    return [
        request_view(connection, request_id, viewer=viewer, now=now, types=types, calendar=calendar)
        for request_id in connection.execute(query).scalars()
    ]


def _row(connection: Connection, request_id: int) -> sa.Row[Any]:
    row = connection.execute(sa.select(_Q).where(_Q.c.id == request_id).with_for_update()).first()
    if row is None:
        raise DeskError(f"request {request_id} does not exist; `alumni request list` lists them")
    return row


def _open_row(connection: Connection, request_id: int) -> sa.Row[Any]:
    row = _row(connection, request_id)
    if row.status == RequestStatus.closed:
        raise DeskError(f"request {request_id} is closed ({row.outcome}); nothing was changed")
    return row


def _spoke_to_alum(
    connection: Connection,
    row: sa.Row[Any],
    now: datetime,
    *,
    status: RequestStatus = RequestStatus.in_progress,
) -> None:
    connection.execute(
        sa.update(_Q)
        .where(_Q.c.id == row.id)
        .values(
            status=status.value,
            last_update_at=now,
            first_response_at=row.first_response_at or now,
        )
    )


def _end_pause(connection: Connection, request_id: int, now: datetime) -> None:
    connection.execute(
        sa.update(_P)
        .where(_P.c.request_id == request_id, _P.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def _event(
    connection: Connection,
    request_id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: str | None,
    *,
    to_alum: bool = False,
) -> None:
    connection.execute(
        sa.insert(_E).values(
            request_id=request_id, at=at, actor=actor, action=action, detail=detail, to_alum=to_alum
        )
    )


def _check_aware(value: datetime, field: str) -> None:
    if value.tzinfo is None:
        raise DeskError(
            f"{field} {value.isoformat()} has no time zone: add one, e.g. {value.isoformat()}Z"
        )


def _email(value: str, field: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or len(value) > 320 or " " in value:
        raise DeskError(f"{field} {value!r} is not an email address: give one like a@school.edu")
    return value


def _optional(text: str | None) -> str | None:
    return (text or "").strip() or None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
