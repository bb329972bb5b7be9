"""``/requests/new/<token>``: the alum asks the office for something.

The link is in the footer of every message (``links.request``: a page link of purpose
``request`` carrying the alumnus id, 90 days; ``alumni.messages.page_links``). ``GET`` shows the
form and changes nothing:

- ``type``: one of the request types of ``requests.toml`` (``alumni.requests.types``), each named
  and described in the alum's language (``alumni.requests.type_words``: welfare says it is
  confidential);
- ``summary``: what they need, required, at most ``SUMMARY_LIMIT`` characters;
- ``whom``: for a job introduction (``referral``), whom they would like to meet (required for
  that type, at most ``WHOM_LIMIT`` characters; kept with the summary for any type);
- ``deadline``: optional, a day ``YYYY-MM-DD`` from today to ``MAX_DEADLINE_DAYS`` ahead, "today"
  being the alum's (their zone, else the office's); it runs to the end of that day there.

``POST`` (with the page's form token, ``alumni.web.csrf``) checks each field. A problem is shown
beside its field, with what was entered, and nothing is saved (422). Otherwise it opens the
request (``alumni.requests.desk.open_request``, source ``web``, actor ``alum``; the
acknowledgement is queued in the same transaction), notes the alum's two-way contact, and
answers 303 to the request's status page (``alumni.web.request_status``). The same form sent
twice (a double click, a resend) opens one request: an open web request of the same alum, type
and words opened within the form token's lifetime leads to its page instead. Once the answer is
sent, the acknowledgement goes out at once (``alumni.requests.send_now``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection

from alumni.db import write_transaction
from alumni.delivery.send_time import zone
from alumni.messages.page_links import REQUEST, request_status_link
from alumni.models import Alumnus, RequestStatus, table_of, utcnow
from alumni.models import Request as RequestRow
from alumni.people.two_way import note_two_way
from alumni.requests.desk import open_request
from alumni.requests.send_now import send_notices_now
from alumni.requests.type_words import type_words
from alumni.requests.types import RequestType, load_request_types
from alumni.web.alum_links import Alum, alum_of_link
from alumni.web.csrf import FIELD, FORM_TOKEN_LIFETIME, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, submitted
from alumni.web.i18n import Words
from alumni.web.site import Site

__all__ = ["MAX_DEADLINE_DAYS", "SUMMARY_LIMIT", "WHOM_LIMIT", "Asked", "add_routes", "read_form"]

# Both together, with the line that joins them, fit the request's summary (2,000 characters).
SUMMARY_LIMIT: Final = 1500
WHOM_LIMIT: Final = 200
MAX_DEADLINE_DAYS: Final = 2 * 366
REFERRAL: Final = "referral"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The office reads the summary: the line that joins the two fields is in its language.
_WHOM_LINE = "Whom to ask: "
_A = table_of(Alumnus)
_Q = table_of(RequestRow)


@dataclass(frozen=True, slots=True)
class Asked:
    """A request as the form gives it, checked."""

    type: str
    summary: str  # with whom to ask, when given
    deadline: datetime | None  # aware: the end of the chosen day in the alum's zone


def read_form(
    form: Submitted,
    *,
    types: Mapping[str, RequestType],
    now: datetime,
    tz: ZoneInfo,
    words: Words,
) -> tuple[Asked | None, Problems]:
    """Check the submitted fields; return the request (None if any field is wrong) and the
    problems by field id, each in ``words``' language.

    Args:
        types: the request types the alum may choose from.
        now: the time of the request: "today" is its date in ``tz``.
        tz: the alum's zone (else the office's): a deadline runs to the end of its day there.
    """
    today = now.astimezone(tz).date()
    problems: Problems = {}
    kind = form.one("type")
    if kind not in types:
        problems["type"] = words("err_type")
    summary, whom = form.one("summary"), form.one("whom")
    if not summary:
        problems["summary"] = words("err_summary_empty")
    elif len(summary) > SUMMARY_LIMIT:
        problems["summary"] = words("err_too_long", limit=SUMMARY_LIMIT, length=len(summary))
    if len(whom) > WHOM_LIMIT:
        problems["whom"] = words("err_too_long", limit=WHOM_LIMIT, length=len(whom))
    elif kind == REFERRAL and not whom:
        problems["whom"] = words("err_whom")
    deadline: datetime | None = None
    raw_day = form.one("deadline")
    if raw_day:
        try:
            if _ISO_DAY.fullmatch(raw_day) is None:
                raise ValueError(raw_day)
            day = date.fromisoformat(raw_day)
        except ValueError:
            example = (today + timedelta(days=14)).isoformat()
            problems["deadline"] = words("err_date", example=example)
        else:
            end_of_day = datetime.combine(day, time(23, 59), tzinfo=tz)
            if day < today or end_of_day <= now:
                problems["deadline"] = words("err_deadline_past")
            elif day > today + timedelta(days=MAX_DEADLINE_DAYS):
                problems["deadline"] = words("err_deadline_far")
            else:
                deadline = end_of_day
    if problems:
        return None, problems
    text = f"{summary}\n\n{_WHOM_LINE}{whom}" if whom else summary
    return Asked(kind, text, deadline), problems


def _sent_before(
    connection: Connection, alumnus_id: int, asked: Asked, *, now: datetime
) -> int | None:
    """The open web request this very form already opened, if it did (a double click)."""
    # Lock the alum's row: two copies of one form sent at once open one request.
    connection.execute(sa.select(_A.c.id).where(_A.c.id == alumnus_id).with_for_update())
    found = connection.execute(
        sa.select(_Q.c.id)
        .where(
            _Q.c.alumnus_id == alumnus_id,
            _Q.c.source == "web",
            _Q.c.type == asked.type,
            _Q.c.summary == asked.summary,
            _Q.c.status != RequestStatus.closed,
            _Q.c.created_at >= now - FORM_TOKEN_LIFETIME,
        )
        .order_by(_Q.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/requests/new/<token>`` (GET, POST); before the status pages' ``/requests/``."""

    def choices(alum: Alum, types: Mapping[str, RequestType]) -> list[dict[str, Any]]:
        return [
            {"name": name, **asdict(type_words(name, alum.words.locale, title=rtype.title))}
            for name, rtype in types.items()
        ]

    def page(
        alum: Alum,
        token: str,
        types: Mapping[str, RequestType],
        *,
        status: int,
        entered: dict[str, str],
        problems: Problems,
    ) -> HTMLResponse:
        words = alum.words
        return site.page(
            "request_form.html.j2",
            status=status,
            words=words,
            title=words("req_title"),
            greeting_name=alum.greeting_name,
            types=choices(alum, types),
            entered=entered,
            problems=problems,
            summary_limit=SUMMARY_LIMIT,
            whom_limit=WHOM_LIMIT,
            form_token=form_token(site.key, REQUEST, token, now=utcnow()),
        )

    @app.get("/requests/new/{token:path}", response_class=HTMLResponse)
    def show(request: Request, token: str) -> HTMLResponse:
        alum = alum_of_link(site, request, REQUEST, token)
        if isinstance(alum, HTMLResponse):
            return alum
        empty = {"type": "", "summary": "", "whom": "", "deadline": ""}
        return page(alum, token, load_request_types(), status=200, entered=empty, problems={})

    @app.post("/requests/new/{token:path}", response_class=HTMLResponse)
    def send(
        request: Request,
        token: str,
        form: Annotated[Submitted, Depends(submitted)],
        background: BackgroundTasks,
    ) -> Response:
        alum = alum_of_link(site, request, REQUEST, token)
        if isinstance(alum, HTMLResponse):
            return alum
        now = utcnow()
        if not form_token_ok(site.key, REQUEST, token, form.one(FIELD), now=now):
            return site.stale_form(alum.words)
        types = load_request_types()
        tz = zone(alum.timezone, site.office_timezone)
        asked, problems = read_form(form, types=types, now=now, tz=tz, words=alum.words)
        if asked is None:
            entered = {name: form.one(name) for name in ("type", "summary", "whom", "deadline")}
            return page(alum, token, types, status=422, entered=entered, problems=problems)
        with write_transaction(site.engine) as connection:
            request_id = _sent_before(connection, alum.id, asked, now=now)
            if request_id is None:
                request_id = open_request(
                    connection,
                    type=asked.type,
                    alumnus_id=alum.id,
                    summary=asked.summary,
                    source="web",
                    opened_at=now,
                    now=now,
                    actor="alum",
                    deadline=asked.deadline,
                    types=types,
                )
            note_two_way(connection, alum.id, at=now, channel="web")
        background.add_task(send_notices_now, site.engine, request_id, settings=site.settings)
        status_page = request_status_link(site.key, "", request_id, now=now).rsplit("/", 1)[1]
        # Relative, like every saved form's answer: /requests/new/<token> -> /requests/<status>
        return RedirectResponse(f"../{status_page}?saved=opened", status_code=303)
