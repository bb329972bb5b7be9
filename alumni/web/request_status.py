"""``/requests/<token>``: where one request stands, for the alum who made it.

The link is in every notice about the request (``links.request_status``: purpose
``request-status``, the request id, 180 days; ``alumni.messages.page_links``) and the form leads
here once the request is sent. ``GET`` only; nothing changes. In the alum's language and zone
(their own, else the office's):

- the type, where it stands (received, being worked on, waiting for their answer, closed and
  how), when they sent it, and the next deadline the office keeps (``alumni.requests.deadlines``
  on the office's calendar): its first answer, its next word, the resolution, their own
  deadline; none while it waits on them or once closed;
- what they asked, unless the type is confidential (welfare): then only that it is;
- what the office wrote to them (audit events marked ``to_alum``: replies, what it waits for,
  why it closed) and, for an idea, the decision and why. Internal notes never: only rows the
  alum was sent are read.

A damaged link (or one for another page) answers the 400 page in the browser's language; an
expired one, a page in the alum's language saying when it expired; a request that is gone, or
whose alum was erased, a page with nothing to show.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from alumni.delivery.send_time import zone
from alumni.messages.page_links import REQUEST, page_link, read_request_status_token
from alumni.messages.signing import BadToken, ExpiredToken
from alumni.models import (
    Alumnus,
    AlumnusStatus,
    RequestEvent,
    RequestPause,
    RequestStatus,
    table_of,
    utcnow,
)
from alumni.models import (
    Request as RequestRow,
)
from alumni.requests.clock import BusinessCalendar, HolidaysError
from alumni.requests.deadlines import Deadlines, deadlines_of
from alumni.requests.notices import said_to_alum, when_text
from alumni.requests.type_words import type_words
from alumni.requests.types import load_request_types
from alumni.web.i18n import Words
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["add_routes"]

_A = table_of(Alumnus)
_Q = table_of(RequestRow)
_E = table_of(RequestEvent)
_P = table_of(RequestPause)
_log = logging.getLogger(__name__)


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/requests/<token>`` (GET); after the form's ``/requests/new/``."""

    def deadlines(row: Any, now: datetime) -> Deadlines | None:
        rtype = load_request_types().get(row.type)
        if rtype is None:
            return None
        try:
            calendar = BusinessCalendar.from_settings(site.settings)
        except HolidaysError as error:
            _log.warning("request %d: its page shows no dates: %s", row.id, error)
            return None
        with site.engine.connect() as connection:
            pauses = [
                (p.started_at, p.ended_at)
                for p in connection.execute(
                    sa.select(_P.c.started_at, _P.c.ended_at).where(_P.c.request_id == row.id)
                )
            ]
        return deadlines_of(row, rtype, calendar, pauses, now=now)

    def shown(row: Any, alum: Any, words: Words, now: datetime) -> dict[str, Any]:
        tz = zone(alum.timezone, site.office_timezone).key
        rtype = load_request_types().get(row.type)
        confidential = rtype is None or rtype.confidential

        def written(moment: datetime | None) -> str | None:
            return None if moment is None else when_text(moment, tz=tz, locale=words.locale)

        due = deadlines(row, now)
        with site.engine.connect() as connection:
            events = list(
                connection.execute(
                    sa.select(_E.c.at, _E.c.action, _E.c.detail)
                    .where(_E.c.request_id == row.id, _E.c.to_alum.is_(True))
                    .order_by(_E.c.at, _E.c.id)
                )
            )
        replies = [
            {"on": words.day(event.at, tz), "text": text}
            for event in events
            if (text := said_to_alum(event.action, event.detail, outcome=row.outcome))
        ]
        closed = row.status == RequestStatus.closed
        state = f"outcome_{row.outcome}" if closed and row.outcome else f"status_{row.status}"
        return {
            "number": row.id,
            "type": type_words(row.type, words.locale, title=rtype.title if rtype else row.type),
            "state": words(state),
            "sent_on": written(row.opened_at),
            "answer_by": written(due.first_response_due) if due else None,
            "write_by": written(due.next_update_due) if due else None,
            "done_by": written(due.resolution_due) if due else None,
            "your_deadline": None if closed else written(row.deadline),
            "closed_on": written(row.closed_at) if closed else None,
            "confidential": confidential,
            "asked": None if confidential else row.summary,
            "replies": replies,
            "decision": row.decision,
            "reason": row.decision_reason,
            "ask_more": page_link(site.key, "", REQUEST, alum.id, now=now),
        }

    @app.get("/requests/{token:path}", response_class=HTMLResponse)
    def show(request: Request, token: str) -> HTMLResponse:
        now = utcnow()
        try:
            request_id = read_request_status_token(site.key, token, now=now)
        except ExpiredToken as error:
            found = _find(site, int(error.payload)) if error.payload.isdigit() else None
            if found is None:
                return site.refused(request_words(request), error)
            words = words_of_alum(found[1].locale)
            text = words(
                "page_expired",
                date=words.day(error.expires_at, found[1].timezone),
                email=site.office_email,
            )
            return site.message(words, 400, words("page_expired_title"), text)
        except BadToken as error:
            return site.refused(request_words(request), error)
        found = _find(site, request_id)
        if found is None:
            words = request_words(request)
            return site.message(words, 200, words("nobody_title"), words("nobody"))
        row, alum = found
        words = words_of_alum(alum.locale)
        saved = request.query_params.get("saved") == "opened"
        return site.page(
            "request_status.html.j2",
            status=200,
            words=words,
            title=words("st_title", number=row.id),
            notice=words("st_saved") if saved else None,
            request=shown(row, alum, words, now),
        )


def _find(site: Site, request_id: int) -> tuple[Any, Any] | None:
    """The request and its alum; None when either is gone or the alum was erased."""
    with site.engine.connect() as connection:
        row = connection.execute(sa.select(_Q).where(_Q.c.id == request_id)).first()
        if row is None:
            return None
        alum = connection.execute(
            sa.select(_A.c.id, _A.c.locale, _A.c.timezone, _A.c.status).where(
                _A.c.id == row.alumnus_id
            )
        ).first()
    if alum is None or alum.status == AlumnusStatus.erased:
        return None
    return row, alum
