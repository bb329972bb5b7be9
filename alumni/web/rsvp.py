"""``/rsvp/<token>``: an alum's answer to an event invitation, from the link in the email.

The token (purpose ``rsvp``, payload ``<delivery id>:<answer>``) expires when the event ends.
``GET`` shows what the alum is answering (the event's title, when in their zone and in the
event's, the place or the online link), the answer they gave so far, and a button for the
answer the link gives; it changes nothing. ``POST`` (with the page's form token,
``alumni.web.csrf``) records the answer, notes the alum's two-way contact and answers 303 to
the page, which then says what was recorded (or that the alum is on the waitlist).

A cancelled event, or one that takes no answers yet, says so (409) without a button, whatever
the method; nothing is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.events.mailings import ANSWERS, RSVP
from alumni.events.rsvp import RsvpError, apply_link, delivery_event
from alumni.events.times import describe_time
from alumni.messages.signing import BadToken, TamperedToken, read_token
from alumni.models import Alumnus, Delivery, Event, EventStatus, Rsvp, table_of, utcnow
from alumni.people.two_way import note_two_way
from alumni.tracking.web_answers import record_web_answer
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Submitted, saved, submitted
from alumni.web.i18n import Words
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["add_routes"]

log = logging.getLogger(__name__)

_A = table_of(Alumnus)
_D = table_of(Delivery)
_E = table_of(Event)
_R = table_of(Rsvp)
_SAVED = "answer"


@dataclass(frozen=True)
class _Invitation:
    """The event a delivery invited an alum to, and what the alum answered so far."""

    alumnus_id: int
    words: Words
    viewer_zone: str | None
    event: Any  # the Event row
    answer: str | None
    waitlisted: bool


def _invitation(site: Site, delivery_id: int) -> _Invitation | None:
    with site.engine.connect() as connection:
        found = delivery_event(connection, delivery_id)
        if found is None:
            return None
        event_id, alumnus_id = found
        event = connection.execute(sa.select(_E).where(_E.c.id == event_id)).first()
        alum = connection.execute(
            sa.select(_A.c.locale, sa.func.coalesce(_A.c.timezone, _D.c.timezone).label("zone"))
            .join(_D, _D.c.alumnus_id == _A.c.id)
            .where(_D.c.id == delivery_id)
        ).first()
        answer = connection.execute(
            sa.select(_R.c.answer, _R.c.waitlisted_at).where(
                _R.c.event_id == event_id, _R.c.alumnus_id == alumnus_id
            )
        ).first()
    if event is None or alum is None:
        return None
    return _Invitation(
        alumnus_id=alumnus_id,
        words=words_of_alum(alum.locale),
        viewer_zone=alum.zone,
        event=event,
        answer=None if answer is None else str(answer.answer),
        waitlisted=answer is not None and answer.waitlisted_at is not None,
    )


def _event_context(invitation: _Invitation) -> dict[str, Any]:
    event = invitation.event
    times = describe_time(
        event.starts_at,
        event.ends_at,
        event_tz=event.timezone,
        viewer_tz=invitation.viewer_zone,
        locale=invitation.words.locale,
    )
    online = event.online_url or ""
    return {
        "when_local": times.local_text,
        "when_event": times.event_text,
        "same_zone": times.same_zone,
        "place": event.place or "",
        "online_url": online,
        # Only web addresses become links: the office typed it, but a page links nowhere else.
        "online_link": urlsplit(online).scheme.lower() in ("http", "https"),
    }


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/rsvp/<token>`` (GET, POST)."""

    def read(token: str) -> tuple[int, str] | BadToken:
        try:
            payload = read_token(site.key, RSVP, token, now=utcnow())
        except BadToken as error:
            return error
        delivery, _, answer = payload.partition(":")
        if not delivery.isdigit() or answer not in ANSWERS:
            return TamperedToken()  # authentic but not ours: only a token made elsewhere
        return int(delivery), answer

    def opened(request: Request, token: str) -> tuple[int, str, _Invitation] | HTMLResponse:
        """The link's delivery, answer and invitation; or the page that says why not."""
        found = read(token)
        if isinstance(found, BadToken):
            return site.refused(request_words(request), found)
        delivery_id, answer = found
        invitation = _invitation(site, delivery_id)
        if invitation is None:
            words = request_words(request)
            return site.message(words, 200, words("nobody_title"), words("rsvp_gone"))
        words = invitation.words
        status = invitation.event.status
        if status != EventStatus.scheduled:
            key = "rsvp_cancelled" if status == EventStatus.cancelled else "rsvp_not_open"
            return site.message(words, 409, invitation.event.title, words(key))
        return delivery_id, answer, invitation

    @app.get("/rsvp/{token:path}", response_class=HTMLResponse)
    def confirm_rsvp(request: Request, token: str) -> HTMLResponse:
        found = opened(request, token)
        if isinstance(found, HTMLResponse):
            return found
        _, answer, invitation = found
        words = invitation.words
        current = invitation.answer
        just_saved = request.query_params.get("saved") == _SAVED and current is not None
        return site.page(
            "rsvp.html.j2",
            status=200,
            words=words,
            title=invitation.event.title,
            event=_event_context(invitation),
            notice=words("rsvp_saved", answer=words(f"rsvp_{current}")) if just_saved else None,
            waitlisted=invitation.waitlisted and current == "yes",
            current=None if current is None or just_saved else words(f"rsvp_{current}"),
            button=None if current == answer else words(f"rsvp_{answer}"),
            form_token=form_token(site.key, RSVP, token, now=utcnow()),
        )

    @app.post("/rsvp/{token:path}", response_class=HTMLResponse)
    def answer_rsvp(
        request: Request, token: str, form: Annotated[Submitted, Depends(submitted)]
    ) -> Response:
        found = opened(request, token)
        if isinstance(found, HTMLResponse):
            return found
        delivery_id, answer, invitation = found
        words = invitation.words
        now = utcnow()
        if not form_token_ok(site.key, RSVP, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        try:
            outcome = apply_link(
                site.engine, delivery_id, answer, now=now, options=site.plan_options
            )
        except RsvpError as error:
            # Its words name internal ids and states: for the log, not the page.
            log.warning("RSVP link of delivery %d not recorded: %s", delivery_id, error)
            return site.message(words, 409, invitation.event.title, words("rsvp_failed"))
        with write_transaction(site.engine) as connection:
            note_two_way(connection, outcome.alumnus_id, at=now, channel="web")
            record_web_answer(connection, kind="click", delivery_id=delivery_id, now=now)
        return saved(token, _SAVED)
