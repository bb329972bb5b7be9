"""``/join/<code>``: the page a share link opens, where someone signs up for their class; and
``/join/confirm/<token>``: the page their confirmation email links to.

The code is a share link's (``alumni.reach.share``): it names the class and, to us only, who
shared it. ``GET /join/<code>`` shows who invited them (first name only) and the form: first
and last name, class year (the link's class, filled in), email, and whether they want news
and events. ``POST`` (with the page's form token) checks it with the import's own checks; a
problem is shown beside its field and nothing is saved (422). Otherwise the sign-up is kept
pending and credited to the sharer (``alumni.reach.referrals.sign_up``), its one confirmation
email goes out once the answer is sent, and the answer is a 303 to the page, which then says
to check their email. Nothing else is sent to them until they confirm.

``GET /join/confirm/<token>`` shows the address and a button, and changes nothing; ``POST``
(with its form token) makes them an alum of the class (``referrals.confirm``) and answers 303
to the page, which then welcomes them. The token expires after ``CONFIRM_LIFETIME``.

Pages are in the browser's language (``Accept-Language``), which is kept as the new alum's.
"""

from __future__ import annotations

from typing import Annotated, Final

import sqlalchemy as sa
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.messages.signing import BadToken
from alumni.models import Alumnus, ShareLink, table_of, utcnow
from alumni.people.validation import FIRST_CLASS_YEAR
from alumni.reach.referrals import (
    CONFIRM_LIFETIME,
    LinkBusy,
    SignupError,
    confirm,
    read_confirm_token,
    send_confirmations,
    sign_up,
    signup_of,
)
from alumni.reach.share import read_share_code
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, saved, submitted
from alumni.web.i18n import Words
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["add_routes", "join_problems"]

JOIN: Final = "join"
JOIN_CONFIRM: Final = "join-confirm"
_FIELDS: Final = ("first_name", "last_name", "class_year", "email", "consent")
_A = table_of(Alumnus)
_S = table_of(ShareLink)


def join_problems(error: SignupError, words: Words, *, this_year: int) -> Problems:
    """The form's problems in ``words``' language, by field id."""
    problems: Problems = {}
    for field in error.problems:
        if field == "class_year":
            problems[field] = words("join_err_year", first=FIRST_CLASS_YEAR, last=this_year + 1)
        elif field == "email":
            problems[field] = words("join_err_email")
        else:
            problems["first_name"] = words("join_err_name")
    return problems


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/join/confirm/<token>`` and ``/join/<code>`` (GET, POST)."""

    def link_of(request: Request, code: str) -> tuple[int, int, str] | HTMLResponse:
        """(share link id, class year, sharer's first name), or the page to answer."""
        words = request_words(request)
        try:
            link_id = read_share_code(site.key, code)
        except BadToken as error:
            return site.refused(words, error)
        with site.engine.connect() as connection:
            row = connection.execute(
                sa.select(_S.c.id, _S.c.class_year, _A.c.first_name, _A.c.status)
                .join(_A, _A.c.id == _S.c.alumnus_id)
                .where(_S.c.id == link_id)
            ).first()
        if row is None or row.status == "erased":
            return site.message(words, 404, words("not_found_title"), words("not_found"))
        return row.id, row.class_year, row.first_name

    def form_page(
        request: Request,
        code: str,
        found: tuple[int, int, str],
        *,
        status: int = 200,
        entered: dict[str, str] | None = None,
        problems: Problems | None = None,
        notice: str | None = None,
    ) -> HTMLResponse:
        words = request_words(request)
        _, class_year, sharer = found
        return site.page(
            "join.html.j2",
            status=status,
            words=words,
            title=words("join_sent_title") if notice else words("join_title"),
            sharer=sharer,
            class_year=class_year,
            entered={name: "" for name in _FIELDS}
            | {"class_year": str(class_year)}
            | (entered or {}),
            problems=problems or {},
            notice=notice,
            form_token=form_token(site.key, JOIN, code, now=utcnow()),
        )

    @app.get("/join/confirm/{token}", response_class=HTMLResponse)
    def show_confirm(request: Request, token: str) -> HTMLResponse:
        return confirm_page(request, token)

    def confirm_page(request: Request, token: str) -> HTMLResponse:
        try:
            signup_id = read_confirm_token(site.key, token, now=utcnow())
        except (BadToken, ValueError) as error:
            words = request_words(request)
            reason = error if isinstance(error, BadToken) else BadToken(words("damaged"))
            return site.refused(words, reason)
        with site.engine.connect() as connection:
            signup = signup_of(connection, signup_id)
        words = request_words(request)
        if signup is None:
            return site.message(words, 200, words("nobody_title"), words("nobody"))
        words = words_of_alum(signup.locale)
        if signup.confirmed_at is not None:
            text = words("join_done", year=signup.class_year)
            return site.message(words, 200, words("join_done_title"), text)
        return site.page(
            "join_confirm.html.j2",
            status=200,
            words=words,
            title=words("join_confirm_title"),
            email=signup.email,
            class_year=signup.class_year,
            form_token=form_token(site.key, JOIN_CONFIRM, token, now=utcnow()),
        )

    @app.post("/join/confirm/{token}", response_class=HTMLResponse)
    def do_confirm(
        request: Request, token: str, form: Annotated[Submitted, Depends(submitted)]
    ) -> Response:
        now = utcnow()
        try:
            signup_id = read_confirm_token(site.key, token, now=now)
        except (BadToken, ValueError):
            return confirm_page(request, token)
        with site.engine.connect() as connection:
            signup = signup_of(connection, signup_id)
        if signup is None:
            return confirm_page(request, token)
        words = words_of_alum(signup.locale)
        if not form_token_ok(site.key, JOIN_CONFIRM, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        try:
            confirm(site.engine, signup_id, settings=site.settings, now=now)
        except SignupError:
            text = words("join_refused", email=site.office_email)
            return site.message(words, 422, words("join_refused_title"), text)
        return saved(token, "confirmed")

    @app.get("/join/{code}", response_class=HTMLResponse)
    def show(request: Request, code: str, saved: str | None = None) -> HTMLResponse:
        found = link_of(request, code)
        if isinstance(found, HTMLResponse):
            return found
        words = request_words(request)
        if saved == "sent":
            notice = words("join_sent", days=CONFIRM_LIFETIME.days)
            return form_page(request, code, found, notice=notice)
        return form_page(request, code, found)

    @app.post("/join/{code}", response_class=HTMLResponse)
    def join(
        request: Request,
        code: str,
        form: Annotated[Submitted, Depends(submitted)],
        background: BackgroundTasks,
    ) -> Response:
        found = link_of(request, code)
        if isinstance(found, HTMLResponse):
            return found
        words = request_words(request)
        now = utcnow()
        if not form_token_ok(site.key, JOIN, code, form.one(FIELD), now=now):
            return site.stale_form(words)
        entered = {name: form.one(name) for name in _FIELDS}
        try:
            with write_transaction(site.engine) as connection:
                sign_up(
                    connection,
                    share_link=found[0],
                    first_name=entered["first_name"],
                    last_name=entered["last_name"],
                    class_year=entered["class_year"],
                    email=entered["email"],
                    consent=entered["consent"] == "yes",
                    locale=words.locale,
                    now=now,
                    message_id_domain=site.plan_options.message_id_domain,
                    key=site.key,
                )
        except LinkBusy:
            return site.message(words, 429, words("join_busy_title"), words("join_busy"))
        except SignupError as error:
            problems = join_problems(error, words, this_year=now.year)
            return form_page(request, code, found, status=422, entered=entered, problems=problems)
        background.add_task(send_confirmations, site.engine, settings=site.settings)
        return saved(code, "sent")
