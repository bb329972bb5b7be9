"""The request desk's operations: open, assign, note, wait, resume, close, decide, and the steps
of letters (a referee), certificates (an identity check) and referrals (the alum asked). Which
steps a type has, and must have done before it is resolved, its flags in ``requests.toml`` say
(``needs_referee``, ``needs_identity_check``, ``needs_consent``, ``needs_decision``).

Every operation takes a connection inside a write transaction (``alumni.db.write_transaction``),
checks its input first (a refusal changes nothing), changes the request, appends its rows to the
audit trail (``RequestEvent``: who, what, when, and whether the alum was sent it), and on opening
and on every change of status asks ``alumni.requests.notices`` to plan the alum's notice.

Timestamps: ``first_response_at`` is the office's first word to the alum (a reply, asking them
for something, a decision, the close) and ``last_update_at`` the latest; the automatic
acknowledgement and the "we are on it again" after a resume do not count. ``wait_on_alum``
opens a ``RequestPause`` (the SLA clock stops) and ``resume`` or ``close`` ends it.
``escalation_level`` is the ladder's (``alumni.requests.ladder``), never changed here.

Welfare requests: their summary, notes and reasons never appear in an error message.
What the desk shows (``request_view``, ``list_requests``) lives in ``alumni.requests.views``.

Errors::

    DeskError(ValueError)   the request, field or value that is wrong, and what to do
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import (
    Alumnus,
    AlumnusStatus,
    Request,
    RequestEvent,
    RequestPause,
    RequestStatus,
    table_of,
)
from alumni.requests import notices
from alumni.requests.referrals import agreed_to_referrals
from alumni.requests.types import RequestType, load_request_types
from alumni.requests.views import list_requests, request_view

__all__ = [
    "ACTOR_LIMIT",
    "DECISIONS",
    "DETAIL_LIMIT",
    "OUTCOMES",
    "SOURCES",
    "SUMMARY_LIMIT",
    "DeskError",
    "add_note",
    "ask_for_introduction",
    "assign",
    "check_identity",
    "close",
    "decide_idea",
    "find_alumnus",
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
ACTOR_LIMIT = 320  # RequestEvent.actor
# An alum the office must not write to is never asked for an introduction.
_UNASKABLE = (AlumnusStatus.do_not_contact, AlumnusStatus.deceased, AlumnusStatus.erased)

_A = table_of(Alumnus)
_Q = table_of(Request)
_E = table_of(RequestEvent)
_P = table_of(RequestPause)


class DeskError(ValueError):
    """An operation the desk refuses; the message names the request, field or value and what
    to do. Nothing was changed."""


def find_alumnus(connection: Connection, external_id: str) -> int:
    """The database id of the alum with ``external_id``.

    Raises:
        DeskError: no alum has that external id.
    """
    found = connection.execute(
        sa.select(_A.c.id).where(_A.c.external_id == external_id.strip())
    ).scalar()
    if found is None:
        raise DeskError(
            f"no alum has external id {external_id!r}: check it in the alumni file "
            "(`alumni import` loads it)"
        )
    return int(found)


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
    types: Mapping[str, RequestType] | None = None,
    asked_alumnus_id: int | None = None,
) -> int:
    """Open a request, write its audit rows and queue the alum's acknowledgement (``ack``).

    Args:
        connection: a connection inside a write transaction.
        type: one of ``types`` (default: the shipped types).
        alumnus_id: the alum who asks (database id; ``find_alumnus`` maps an external id).
        summary: what they ask, 1 to 2000 characters.
        source: ``reply``, ``web`` or ``officer``.
        opened_at: when the request really came (aware, not after ``now``): the SLA clock
            starts there.
        now: the time of the operation (aware).
        actor: who opens it, for the audit trail (an officer's email, ``alum`` or ``system``).
        owner: the officer who takes it (email), if known.
        deadline: the alum's own deadline (letters: the resolution is due by then if sooner).
        response_id: the reply it was opened from.
        types: the request types by name; None: ``load_request_types()``.
        asked_alumnus_id: types that need consent (referrals): the alum asked for the
            introduction (see ``ask_for_introduction``).

    Returns:
        The new request's id.

    Raises:
        DeskError: an unknown type, source or alum; an empty or too long summary; a naive or
            future ``opened_at``; a ``deadline`` not after ``opened_at``; an owner that is not
            an email; an asked alum who has not agreed to be asked.
    """
    types = load_request_types() if types is None else types
    if type not in types:
        raise DeskError(f"request type {type!r} is not known: use one of {', '.join(types)}")
    if source not in SOURCES:
        raise DeskError(f"source {source!r} is not known: use one of {', '.join(SOURCES)}")
    actor = _actor(actor)
    if not summary.strip():
        raise DeskError("the summary is empty: say in a few words what the alum asks for")
    if len(summary) > SUMMARY_LIMIT:
        raise DeskError(
            f"the summary has {len(summary)} characters, more than {SUMMARY_LIMIT}: shorten it "
            "and add the rest as a note"
        )
    _check_aware(opened_at, "opened_at")
    _check_aware(now, "now")
    if opened_at > now:
        raise DeskError(
            f"opened_at {opened_at.isoformat()} is in the future (now is {now.isoformat()}): "
            "give when the request came"
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
        raise DeskError(f"alumnus {alumnus_id} does not exist: check the id")
    if asked_alumnus_id is not None:
        _check_askable(
            connection, types[type], asked_alumnus_id, alumnus_id, what="the new request"
        )
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
            asked_alumnus_id=asked_alumnus_id,
        )
        .returning(_Q.c.id)
    ).scalar_one()
    _event(connection, request_id, now, actor, "opened", f"{type} from {source}")
    if owner is not None:
        _event(connection, request_id, now, actor, "assigned", owner)
    if asked_alumnus_id is not None:
        _event(connection, request_id, now, actor, "asked", _asked(asked_alumnus_id))
    notices.queue_notice(connection, request_id, "ack", now=now)
    return request_id


def assign(
    connection: Connection, request_id: int, *, owner: str, actor: str, now: datetime
) -> None:
    """Give the open request to ``owner`` (an officer's email)."""
    actor = _actor(actor)
    owner = _email(owner, "owner")
    _open_row(connection, request_id)
    connection.execute(sa.update(_Q).where(_Q.c.id == request_id).values(owner=owner))
    _event(connection, request_id, now, actor, "assigned", owner)


def add_note(
    connection: Connection,
    request_id: int,
    *,
    text: str,
    to_alum: bool,
    actor: str,
    now: datetime,
) -> None:
    """Add an internal note (also to a closed request), or with ``to_alum`` a reply to the
    alum on an open one: it counts as the first response (the first time) and as an update,
    and queues the ``update`` notice."""
    actor = _actor(actor)
    text = text.strip()
    if not text:
        raise DeskError(f"request {request_id}: the note is empty; write what happened")
    if len(text) > DETAIL_LIMIT:
        raise DeskError(
            f"request {request_id}: the note has {len(text)} characters, more than "
            f"{DETAIL_LIMIT}; split it in two"
        )
    if not to_alum:
        _row(connection, request_id)
        _event(connection, request_id, now, actor, "note", text)
        return
    row = _open_row(connection, request_id, doing="reply to the alum")
    _spoke_to_alum(connection, row, now)
    _event(connection, request_id, now, actor, "reply", text, to_alum=True)
    notices.queue_notice(connection, request_id, "update", now=now)


def wait_on_alum(
    connection: Connection,
    request_id: int,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Wait on the alum (``reason``: what we asked them for): the SLA clock stops until
    ``resume``; queues the ``waiting`` notice."""
    actor = _actor(actor)
    reason = _optional(reason, "reason", request_id)
    row = _open_row(connection, request_id)
    if row.status == RequestStatus.waiting:
        raise DeskError(
            f"request {request_id} already waits on the alum; run `alumni request resume "
            f"{request_id}` when they answer"
        )
    _spoke_to_alum(connection, row, now, status=RequestStatus.waiting)
    connection.execute(sa.insert(_P).values(request_id=request_id, started_at=now))
    _event(connection, request_id, now, actor, "waiting", reason, to_alum=True)
    notices.queue_notice(connection, request_id, "waiting", now=now)


def resume(connection: Connection, request_id: int, *, actor: str, now: datetime) -> None:
    """The alum answered: the SLA clock runs again; queues the ``resumed`` notice."""
    actor = _actor(actor)
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
    types: Mapping[str, RequestType] | None = None,
) -> None:
    """Close the request as ``resolved``, ``declined`` or ``withdrawn``; queues ``closed``.

    The steps of its type (``requests.toml``) come first: a decision (and why) before an idea
    is resolved or declined; before anything is resolved, the identity check (certificates),
    a referee (letters), an asked alum who still agrees to be asked (referrals). Withdrawn
    (the alum no longer wants it) skips them.

    Raises:
        DeskError: already closed; an unknown outcome; a step of its type not done.
    """
    actor = _actor(actor)
    if outcome not in OUTCOMES:
        raise DeskError(f"outcome {outcome!r} is not known: use one of {', '.join(OUTCOMES)}")
    reason = _optional(reason, "reason", request_id)
    row = _row(connection, request_id)
    if row.status == RequestStatus.closed:
        raise DeskError(
            f"request {request_id} is already closed ({row.outcome}, "
            f"{row.closed_at.isoformat()}); nothing was changed"
        )
    if outcome != "withdrawn":
        _check_steps_done(connection, row, _rules(types, row.type), outcome)
    _end_pause(connection, request_id, now)
    _spoke_to_alum(connection, row, now, status=RequestStatus.closed)
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(closed_at=now, outcome=outcome)
    )
    detail = f"{outcome}: {reason}" if reason else outcome
    _event(connection, request_id, now, actor, "closed", detail, to_alum=True)
    notices.queue_notice(connection, request_id, "closed", now=now)


def decide_idea(
    connection: Connection,
    request_id: int,
    *,
    decision: str,
    reason: str,
    actor: str,
    now: datetime,
    types: Mapping[str, RequestType] | None = None,
) -> None:
    """Record the decision on an idea (accepted, declined or planned) and why; the alum is
    told both (the ``decision`` notice). A later decision replaces an earlier one."""
    actor = _actor(actor)
    if decision not in DECISIONS:
        raise DeskError(f"decision {decision!r} is not known: use one of {', '.join(DECISIONS)}")
    text = _optional(reason, "reason", request_id)
    if text is None:
        raise DeskError(
            f"request {request_id}: give the reason for the decision (--reason); the alum is "
            "told it"
        )
    row = _open_row(connection, request_id)
    _require_step(request_id, row.type, types, "needs_decision", "are decided")
    _spoke_to_alum(connection, row, now)
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(decision=decision, decision_reason=text)
    )
    _event(connection, request_id, now, actor, "decision", f"{decision}: {text}", to_alum=True)
    notices.queue_notice(connection, request_id, "decision", now=now)


def set_referee(
    connection: Connection,
    request_id: int,
    *,
    referee: str,
    actor: str,
    now: datetime,
    types: Mapping[str, RequestType] | None = None,
) -> None:
    """Name who writes a letter (an email); a letter is resolved only once it has one."""
    actor = _actor(actor)
    referee = _email(referee, "referee")
    row = _open_row(connection, request_id)
    _require_step(request_id, row.type, types, "needs_referee", "have a referee")
    connection.execute(sa.update(_Q).where(_Q.c.id == request_id).values(referee=referee))
    _event(connection, request_id, now, actor, "referee", referee)


def check_identity(
    connection: Connection,
    request_id: int,
    *,
    actor: str,
    now: datetime,
    types: Mapping[str, RequestType] | None = None,
) -> None:
    """Record that ``actor`` checked the alum's identity: a certificate is released (resolved)
    only after it."""
    actor = _actor(actor)
    row = _open_row(connection, request_id)
    _require_step(request_id, row.type, types, "needs_identity_check", "have an identity check")
    if row.identity_checked_at is not None:
        raise DeskError(
            f"request {request_id}: the identity was already checked by "
            f"{row.identity_checked_by} at {row.identity_checked_at.isoformat()}"
        )
    connection.execute(
        sa.update(_Q)
        .where(_Q.c.id == request_id)
        .values(identity_checked_at=now, identity_checked_by=actor)
    )
    _event(connection, request_id, now, actor, "identity_checked", None)


def ask_for_introduction(
    connection: Connection,
    request_id: int,
    *,
    asked_alumnus_id: int,
    actor: str,
    now: datetime,
    types: Mapping[str, RequestType] | None = None,
) -> None:
    """Name the alum asked for a referral's introduction, who must have agreed to be asked
    (``alumni.requests.referrals``); a referral is resolved only once it has one."""
    actor = _actor(actor)
    row = _open_row(connection, request_id)
    rules = _require_step(request_id, row.type, types, "needs_consent", "ask an alum to introduce")
    _check_askable(
        connection, rules, asked_alumnus_id, row.alumnus_id, what=f"request {request_id}"
    )
    connection.execute(
        sa.update(_Q).where(_Q.c.id == request_id).values(asked_alumnus_id=asked_alumnus_id)
    )
    _event(connection, request_id, now, actor, "asked", _asked(asked_alumnus_id))


def _rules(types: Mapping[str, RequestType] | None, type: str) -> RequestType | None:
    """The rules of ``type``; None for a type no longer in the file (no step is asked)."""
    return (load_request_types() if types is None else types).get(type)


def _require_step(
    request_id: int,
    type: str,
    types: Mapping[str, RequestType] | None,
    flag: str,
    what: str,
) -> RequestType:
    """The rules of ``type``, which must have the step ``flag`` (e.g. ``needs_referee``)."""
    types = load_request_types() if types is None else types
    rules = types.get(type)
    if rules is None or not getattr(rules, flag):
        having = [name for name, other in types.items() if getattr(other, flag)]
        raise DeskError(
            f"request {request_id} is a {type} request: only {'/'.join(having) or 'no'} "
            f"requests {what} ({flag} in the request types file)"
        )
    return rules


def _check_steps_done(
    connection: Connection, row: sa.Row[Any], rules: RequestType | None, outcome: str
) -> None:
    """Refuse a close (resolved or declined) that skips a step of the request's type."""
    if rules is None:
        return
    request_id = row.id
    if rules.needs_decision and not row.decision:
        raise DeskError(
            f"request {request_id} ({row.type}) has no decision: decide it first "
            f"(`alumni request decide {request_id} --decision accepted|declined|planned "
            "--reason TEXT`), the alum is told the decision and why; or close it as withdrawn"
        )
    if outcome != "resolved":
        return
    if rules.needs_identity_check and row.identity_checked_at is None:
        raise DeskError(
            f"request {request_id} is a {row.type}: check the alum's identity before it is "
            f"released (`alumni request identity {request_id} --checked`)"
        )
    if rules.needs_referee and not row.referee:
        raise DeskError(
            f"request {request_id} is a {row.type} with no referee: name who writes it "
            f"(`alumni request referee {request_id} --name EMAIL`)"
        )
    if rules.needs_consent:
        if row.asked_alumnus_id is None:
            raise DeskError(
                f"request {request_id} is a {row.type} with nobody asked for the introduction: "
                f"`alumni request ask {request_id} --alumnus EXTERNAL_ID`"
            )
        _check_askable(
            connection, rules, row.asked_alumnus_id, row.alumnus_id, what=f"request {request_id}"
        )


def _check_askable(
    connection: Connection,
    rules: RequestType,
    asked_alumnus_id: int,
    alumnus_id: int,
    *,
    what: str,
) -> None:
    """Refuse to ask an alum who has not agreed to be asked, or must not be written to."""
    if not rules.needs_consent:
        raise DeskError(f"{what} is a {rules.name}: only a referral asks an alum for anything")
    asked = connection.execute(
        sa.select(_A.c.external_id, _A.c.status).where(_A.c.id == asked_alumnus_id)
    ).first()
    if asked is None:
        raise DeskError(f"alumnus {asked_alumnus_id} does not exist: check the id")
    if asked_alumnus_id == alumnus_id:
        raise DeskError(
            f"{what}: {asked.external_id} is the alum who asks; name another alum to ask"
        )
    if asked.status in _UNASKABLE:
        raise DeskError(
            f"{what}: alum {asked.external_id} is {asked.status} and is never asked; name "
            "another alum"
        )
    if not agreed_to_referrals(connection, asked_alumnus_id):
        raise DeskError(
            f"{what}: alum {asked.external_id} has not agreed to be asked for introductions. "
            "When they agree, record it with `alumni request consent "
            f"{asked.external_id} --referrals yes --evidence TEXT`, then ask again; or name "
            "another alum"
        )


def _row(connection: Connection, request_id: int) -> sa.Row[Any]:
    # FOR UPDATE: two officers acting at once on PostgreSQL queue here (SQLite: BEGIN IMMEDIATE).
    row = connection.execute(sa.select(_Q).where(_Q.c.id == request_id).with_for_update()).first()
    if row is None:
        raise DeskError(f"request {request_id} does not exist; `alumni request list` lists them")
    return row


def _open_row(connection: Connection, request_id: int, *, doing: str = "change") -> sa.Row[Any]:
    row = _row(connection, request_id)
    if row.status == RequestStatus.closed:
        raise DeskError(
            f"request {request_id} is closed ({row.outcome}, {row.closed_at.isoformat()}): "
            f"nothing to {doing}; open a new request if the alum asks again"
        )
    return row


def _spoke_to_alum(
    connection: Connection,
    row: sa.Row[Any],
    now: datetime,
    *,
    status: RequestStatus | None = None,
) -> None:
    """A word to the alum: first response (once), last update, and the status it leads to
    (by default in progress, or still waiting while the office waits on the alum)."""
    if status is None:
        status = (
            RequestStatus.waiting
            if row.status == RequestStatus.waiting
            else RequestStatus.in_progress
        )
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


def _asked(alumnus_id: int) -> str:
    # The database id, not the external one: the trail outlives the asked alum's erasure.
    return f"alumnus {alumnus_id}"


def _check_aware(value: datetime, field: str) -> None:
    if value.tzinfo is None:
        raise DeskError(
            f"{field} {value.isoformat()} has no time zone: add its offset, e.g. "
            f"{value.isoformat()}+00:00"
        )


def _actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > ACTOR_LIMIT:
        raise DeskError(
            f"the actor {actor!r} must be 1 to {ACTOR_LIMIT} characters: give the officer's "
            "email (--as, or ALUMNI_OFFICER)"
        )
    return actor


def _email(value: str, field: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(value) > 320
        or any(c.isspace() for c in value)
    ):
        raise DeskError(f"{field} {value!r} is not an email address: give one like a@school.edu")
    return value


def _optional(text: str | None, field: str, request_id: int) -> str | None:
    """Free text of an operation (a reason): stripped, None when empty, at most the detail's
    length."""
    text = (text or "").strip()
    if len(text) > DETAIL_LIMIT - 20:  # the outcome or decision goes before it
        raise DeskError(
            f"request {request_id}: the {field} has {len(text)} characters, more than "
            f"{DETAIL_LIMIT - 20}; shorten it and add the rest as a note"
        )
    return text or None
