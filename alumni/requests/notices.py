"""The messages an alum gets about their own request: an acknowledgement when it is opened and
one at every change of status, in their language, each sent exactly once through the ledger.

``queue_notice`` plans one notice as event mailings plan theirs: a ``RequestNotice`` row per
(request, key) mapping to a campaign of its own, purpose ``service`` (never capped by the
contact budget, nor held back by the alum's preference page), planned for that one alum with the
one planner (``alumni.delivery.planning.plan_on``). The flows that send due campaigns
(``due-campaigns``, every 15 minutes) send it; ``alumni.requests.send_now`` sends it at once
where the alum or an officer just opened the request. ``alumni.delivery.request_kit`` composes it
from ``templates/request/<kind>/``.

What a notice says is fixed when it is queued (``RequestNotice.context``), in the language its
email is written in (the alum's locale, as the templates fall back) and the alum's time zone
(else the office's)::

    id, type, title (the type's name in that language), kind, status, confidential
    summary       what the alum asked (None for a confidential type: welfare)
    opened        when it came, written out
    answer_by     when the office owes its next word (ack, update, resumed; else None)
    resolve_by    when it is to be resolved (None: never, or not for this kind)
    your_deadline the alum's own deadline, if they gave one
    words         what the office wrote to the alum since the last notice (replies, what it
                  waits for, why it closed); empty for a confidential type: the alum reads
                  those on their status page, never in an email
    outcome       closed: resolved / declined / withdrawn
    decision, reason   an idea's decision (accepted / declined / planned) and why

A welfare request's notice says only that the office has it and when it will answer: its
content (the alum's words and the office's) never goes into an email, a log or the row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery import planning
from alumni.delivery.send_time import zone
from alumni.messages.locale_format import format_moment, reading_locale
from alumni.messages.rendering import REQUEST, RenderError, TemplateStore
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Request,
    RequestEvent,
    RequestNotice,
    RequestPause,
    table_of,
)
from alumni.requests.clock import BusinessCalendar, HolidaysError
from alumni.requests.deadlines import Deadlines, deadlines_of
from alumni.requests.type_words import type_words
from alumni.requests.types import RequestType, load_request_types
from alumni.settings import Settings, get_settings

__all__ = ["NOTICE_KINDS", "queue_notice", "said_to_alum", "when_text"]

NOTICE_KINDS = ("ack", "update", "waiting", "resumed", "closed", "decision")
# The kinds that promise the office's next word and the resolution.
_PROMISING = ("ack", "update", "resumed")

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
_R = table_of(Request)
_E = table_of(RequestEvent)
_N = table_of(RequestNotice)
_P = table_of(RequestPause)
_log = logging.getLogger(__name__)


def queue_notice(
    connection: Connection, request_id: int, kind: str, *, now: datetime
) -> int | None:
    """Plan one notice of ``kind`` to the request's alum; return its campaign id.

    Call it inside the write transaction that changed the request, after writing the audit
    event: the notice's key is ``ack`` or ``<kind>-<newest event id>``, so calling it again for
    the same change plans nothing new and returns the same campaign. The alum gets it whatever
    their contact budget and preferences (a service message), the acknowledgement at once and
    the others outside their night (``alumni.delivery.send_time``); an alum with no working
    address, or one erased, has a skipped delivery saying why.

    Raises:
        ValueError: an unknown kind, or no such request.
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind {kind!r}: use one of {', '.join(NOTICE_KINDS)}")
    request = connection.execute(sa.select(_R).where(_R.c.id == request_id)).first()
    if request is None:
        raise ValueError(f"request {request_id} does not exist")
    event_id = connection.execute(
        sa.select(sa.func.max(_E.c.id)).where(_E.c.request_id == request_id)
    ).scalar()
    key = "ack" if kind == "ack" else f"{kind}-{event_id or 0}"
    found = connection.execute(
        sa.select(_N.c.campaign_id).where(_N.c.request_id == request_id, _N.c.key == key)
    ).scalar()
    if found is not None:
        return int(found)
    settings = get_settings()
    alum = connection.execute(
        sa.select(_A.c.class_year, _A.c.locale, _A.c.timezone).where(_A.c.id == request.alumnus_id)
    ).one()
    context = _context(connection, request, kind, alum, settings=settings, now=now)
    campaign_id: int = connection.execute(
        sa.insert(_C)
        .values(
            # never the summary: campaign names show in lists, logs and artifacts
            name=f"request {request_id} ({request.type}): {key}",
            class_year=alum.class_year,
            channel="email",
            template=kind,
            purpose="service",
            status=CampaignStatus.draft,
            created_at=now,
        )
        .returning(_C.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(_N).values(
            request_id=request_id,
            campaign_id=campaign_id,
            kind=kind,
            key=key,
            event_id=event_id,
            context=context,
            created_at=now,
        )
    )
    options = planning.PlanOptions.from_settings(settings)
    planning.plan_on(connection, campaign_id, now=now, options=options, only=[request.alumnus_id])
    if kind == "ack":
        # The alum has just asked: the answer that we have it goes now, whatever their hour
        # (the quiet hours hold back what they did not just ask for, the later notices too).
        connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id == campaign_id, _D.c.status == DeliveryStatus.pending)
            .values(due_at=now)
        )
    return campaign_id


def when_text(moment: datetime, *, tz: str, locale: str) -> str:
    """An instant as a reader of ``locale`` writes it, in zone ``tz``: "Monday, March 3, 2025,
    5:00 PM (Europe/London)" (``alumni.messages.locale_format``; an unknown locale is written
    in English, an unknown zone as UTC)."""
    return format_moment(moment, locale, zone=tz)


def _context(
    connection: Connection,
    request: Any,
    kind: str,
    alum: Any,
    *,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """What the notice says (see the module docstring), in the email's language."""
    rtype = load_request_types().get(request.type)
    confidential = rtype is None or rtype.confidential  # a type no longer known: say little
    try:
        store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
        language = store.email_locale(kind, alum.locale, family=REQUEST)
    except RenderError:
        language = settings.default_locale  # the preflight names the missing template
    tz = zone(alum.timezone, settings.office_timezone).key

    def written(moment: datetime | None) -> str | None:
        return (
            None
            if moment is None
            else when_text(moment, tz=tz, locale=reading_locale(language, alum.locale))
        )

    answer_by = resolve_by = None
    due = _deadlines(connection, request, rtype, settings=settings, now=now)
    if kind in _PROMISING and due is not None:
        answer_by = due.first_response_due or due.next_update_due
        resolve_by = due.resolution_due
    return {
        "id": request.id,
        "type": request.type,
        "title": type_words(
            request.type, language, title=rtype.title if rtype else request.type
        ).title,
        "kind": kind,
        "status": request.status,
        "confidential": confidential,
        "summary": None if confidential else request.summary,
        "opened": written(request.opened_at),
        "answer_by": written(answer_by),
        "resolve_by": written(resolve_by),
        "your_deadline": written(request.deadline),
        "words": [] if confidential else _words_since_last_notice(connection, request),
        "outcome": request.outcome if kind == "closed" else None,
        "decision": request.decision if kind == "decision" else None,
        "reason": request.decision_reason if kind == "decision" and not confidential else None,
    }


def _deadlines(
    connection: Connection,
    request: Any,
    rtype: RequestType | None,
    *,
    settings: Settings,
    now: datetime,
) -> Deadlines | None:
    """The request's running deadlines at ``now``; None for a type no longer known, or when
    the holidays feed cannot be read (the notice then promises no date rather than a wrong
    one, and the request is opened all the same)."""
    if rtype is None:
        return None
    try:
        calendar = BusinessCalendar.from_settings(settings)
    except HolidaysError as error:
        _log.warning("request %d: its notice gives no dates: %s", request.id, error)
        return None
    pauses = [
        (row.started_at, row.ended_at)
        for row in connection.execute(
            sa.select(_P.c.started_at, _P.c.ended_at)
            .where(_P.c.request_id == request.id)
            .order_by(_P.c.started_at)
        )
    ]
    return deadlines_of(request, rtype, calendar, pauses, now=now)


def said_to_alum(action: str, detail: str | None, *, outcome: str | None) -> str | None:
    """What an audit event sent to the alum (``to_alum``) says to them in words: a reply, what
    the office waits for, why it closed. None for a decision (told by its own fields) and for
    an event with nothing to say; a closing event's outcome is told apart, so only its reason
    is kept."""
    if action == "decision" or not detail:
        return None
    if action == "closed" and outcome:
        return detail.removeprefix(outcome).removeprefix(":").strip() or None
    return detail


def _words_since_last_notice(connection: Connection, request: Any) -> list[str]:
    """What the office wrote to the alum (``said_to_alum``) since the last notice."""
    told = connection.execute(
        sa.select(sa.func.max(_N.c.event_id)).where(_N.c.request_id == request.id)
    ).scalar()
    query = sa.select(_E.c.action, _E.c.detail).where(
        _E.c.request_id == request.id, _E.c.to_alum.is_(True)
    )
    if told is not None:
        query = query.where(_E.c.id > told)
    said = (
        said_to_alum(event.action, event.detail, outcome=request.outcome)
        for event in connection.execute(query.order_by(_E.c.id))
    )
    return [text for text in said if text]
