"""``/tip/<token>``: "I know how to reach X", and ``/consent/<token>``: "would you like to hear
from us?".

The tip form is reached by the tipster's own page link (``links.tip``: purpose ``tip``, carrying
their alumnus id, 90 days; ``alumni.messages.page_links``), which every message carries; the
ambassadors' monthly digest links it beside the names of the class's lost classmates. ``GET``
lists the lost classmates of the tipster's class (names only, never a detail) and changes
nothing. ``POST`` (with the page's form token, ``alumni.web.csrf``) takes:

- ``lost``: one of those classmates;
- ``kind`` and ``value``: the detail (email, phone, Mastodon, Bluesky), checked like a
  spreadsheet cell against the lost alum's country;
- ``how_known``: how the tipster knows, 1 to ``HOW_KNOWN_LIMIT`` characters.

A problem is shown beside its field and nothing is saved (422). Saved, the tip waits for an
officer (``alumni.reach.tips.submit_tip``: a desk request, nothing used until verified) and the
answer is 303 to the page with a "thank you" notice; the desk's acknowledgement to the tipster
goes out at once (``alumni.requests.send_now``). One tip per tipster and lost classmate: a
second one about the same classmate is refused with a notice (409), so a link cannot be used to
flood the office.

The consent page (purpose ``consent``) is what the one message to a found alum links to: two
buttons, yes or no; either is recorded (``alumni.reach.tips.answer_consent``) and the answer is
303 back with a notice.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.messages.page_links import CONSENT, TIP
from alumni.models import Alumnus, ReachTip, table_of, utcnow
from alumni.people.contact_details import KINDS, normalise_detail
from alumni.reach.channels import lost_classmates
from alumni.reach.tips import HOW_KNOWN_LIMIT, TipAlreadyGiven, answer_consent, submit_tip
from alumni.requests.send_now import send_notices_now
from alumni.web.alum_links import Alum, alum_of_link
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, saved, submitted
from alumni.web.site import Site

__all__ = ["add_routes"]

_A = table_of(Alumnus)
_T = table_of(ReachTip)
_TIP_NOTICES = {"sent": "tip_saved"}
_CONSENT_NOTICES = {"yes": "consent_saved_yes", "no": "consent_saved_no"}


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/tip/<token>`` and ``/consent/<token>`` (GET, POST)."""

    def classmates(alum: Alum) -> list[dict[str, Any]]:
        with site.engine.connect() as connection:
            year = _class_year(connection, alum.id)
            lost = lost_classmates(connection, year)
        return [
            {"id": a.alumnus_id, "name": a.display_name} for a in lost if a.alumnus_id != alum.id
        ]

    def tip_page(
        alum: Alum,
        token: str,
        *,
        status: int,
        notice: str | None = None,
        problems: Problems | None = None,
        entered: dict[str, str] | None = None,
    ) -> HTMLResponse:
        words = alum.words
        return site.page(
            "tip_form.html.j2",
            status=status,
            words=words,
            title=words("tip_title"),
            first_name=alum.first_name,
            lost=classmates(alum),
            kinds=[kind.value for kind in KINDS],
            notice=notice,
            problems=problems or {},
            entered=entered or {"lost": "", "kind": "email", "value": "", "how_known": ""},
            how_known_limit=HOW_KNOWN_LIMIT,
            form_token=form_token(site.key, TIP, token, now=utcnow()),
        )

    @app.get("/tip/{token:path}", response_class=HTMLResponse)
    def show_tip(request: Request, token: str) -> HTMLResponse:
        alum = alum_of_link(site, request, TIP, token)
        if isinstance(alum, HTMLResponse):
            return alum
        key = _TIP_NOTICES.get(request.query_params.get("saved", ""))
        return tip_page(alum, token, status=200, notice=None if key is None else alum.words(key))

    @app.post("/tip/{token:path}", response_class=HTMLResponse)
    def send_tip(
        request: Request,
        token: str,
        form: Annotated[Submitted, Depends(submitted)],
        background: BackgroundTasks,
    ) -> Response:
        alum = alum_of_link(site, request, TIP, token)
        if isinstance(alum, HTMLResponse):
            return alum
        words = alum.words
        now = utcnow()
        if not form_token_ok(site.key, TIP, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        entered = {name: form.one(name) for name in ("lost", "kind", "value", "how_known")}
        problems: Problems = {}
        choices = {str(c["id"]) for c in classmates(alum)}
        if entered["lost"] not in choices:
            problems["lost"] = words("err_tip_who")
        kind = entered["kind"] if entered["kind"] in {k.value for k in KINDS} else "email"
        if not entered["value"]:
            problems["value"] = words("err_tip_value")
        elif "lost" not in problems:
            with site.engine.connect() as connection:
                country = _country(connection, int(entered["lost"]))
            try:
                normalise_detail(kind, entered["value"], country=country)
            except ValueError:
                problems["value"] = words(f"err_{kind}")
        how = entered["how_known"]
        if not how:
            problems["how_known"] = words("err_tip_how")
        elif len(how) > HOW_KNOWN_LIMIT:
            problems["how_known"] = words("err_too_long", limit=HOW_KNOWN_LIMIT, length=len(how))
        if problems:
            return tip_page(alum, token, status=422, problems=problems, entered=entered)
        try:
            with write_transaction(site.engine) as connection:
                tip_id = submit_tip(
                    connection,
                    tipster_id=alum.id,
                    lost_alumnus_id=int(entered["lost"]),
                    kind=kind,
                    value=entered["value"],
                    how_known=how,
                    now=now,
                )
                request_id = connection.execute(
                    sa.select(_T.c.request_id).where(_T.c.id == tip_id)
                ).scalar_one()
        except TipAlreadyGiven:
            return tip_page(alum, token, status=409, notice=words("tip_already"), entered=entered)
        # The desk's acknowledgement to the tipster leaves at once, after this answer is sent.
        background.add_task(send_notices_now, site.engine, request_id, settings=site.settings)
        return saved(token, "sent")

    def consent_page(alum: Alum, token: str, *, status: int, notice: str | None) -> HTMLResponse:
        words = alum.words
        return site.page(
            "consent.html.j2",
            status=status,
            words=words,
            title=words("consent_title"),
            first_name=alum.first_name,
            notice=notice,
            form_token=form_token(site.key, CONSENT, token, now=utcnow()),
        )

    @app.get("/consent/{token:path}", response_class=HTMLResponse)
    def show_consent(request: Request, token: str) -> HTMLResponse:
        alum = alum_of_link(site, request, CONSENT, token)
        if isinstance(alum, HTMLResponse):
            return alum
        key = _CONSENT_NOTICES.get(request.query_params.get("saved", ""))
        notice = None if key is None else alum.words(key)
        return consent_page(alum, token, status=200, notice=notice)

    @app.post("/consent/{token:path}", response_class=HTMLResponse)
    def answer(
        request: Request, token: str, form: Annotated[Submitted, Depends(submitted)]
    ) -> Response:
        alum = alum_of_link(site, request, CONSENT, token)
        if isinstance(alum, HTMLResponse):
            return alum
        words = alum.words
        now = utcnow()
        if not form_token_ok(site.key, CONSENT, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        choice = form.one("answer")
        if choice not in _CONSENT_NOTICES:
            return site.message(words, 422, words("unreadable_title"), words("unreadable"))
        with write_transaction(site.engine) as connection:
            answer_consent(connection, alum.id, yes=choice == "yes", now=now)
        return saved(token, choice)


def _class_year(connection: sa.Connection, alumnus_id: int) -> int:
    return int(
        connection.execute(sa.select(_A.c.class_year).where(_A.c.id == alumnus_id)).scalar_one()
    )


def _country(connection: sa.Connection, alumnus_id: int) -> str | None:
    return connection.execute(sa.select(_A.c.country).where(_A.c.id == alumnus_id)).scalar()
