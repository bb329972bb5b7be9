"""The small public web app behind the links in our emails and posts (``alumni serve``).

It answers RSVP links ``/rsvp/<token>``, tracked links in social posts ``/l/<token>`` (counted
at most once per link per hour, see ``alumni.social.clicks``) and unsubscribe links
``/unsubscribe/<token>``:

- ``GET`` shows a confirmation page and never changes anything, because mail scanners follow links;
- ``POST`` is RFC 8058 one-click (``List-Unsubscribe=One-Click`` from a mail client, or the page's
  button): the address the delivery went to is suppressed for news and events at once.

No cookies, no redirects, no caching; the token and the address never reach a page other than
the confirmation (masked there) nor a log: uvicorn's access log is cut to the first path segment.

Every answer carries ``SECURITY_HEADERS`` (and ``Strict-Transport-Security`` when
``ALUMNI_BASE_URL`` is https), error pages included: the headers are set outside Starlette's
outermost error handler, so even a 500 has them. Error pages (400, 404, 405, 409, 422, 500) say
what the person can do, never an internal id, state or traceback; those go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment
from sqlalchemy.engine import Connection, Engine
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.delivery.sending import UNSUBSCRIBE
from alumni.events.mailings import ANSWERS, RSVP
from alumni.events.rsvp import RsvpError, apply_link, delivery_event
from alumni.messages.signing import BadToken, TamperedToken, read_token
from alumni.models import ContactKind, Delivery, Event, EventStatus, table_of, utcnow
from alumni.people.suppression import unsubscribe as unsubscribe_address
from alumni.settings import Settings, get_settings
from alumni.social.clicks import CLICK, record_click

__all__ = ["HSTS", "SECURITY_HEADERS", "create_app", "make_server", "security_headers", "serve"]

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
# Browsers use only https for this host for two years after a visit; not includeSubDomains:
# the office's other hosts are not ours to promise https for.
HSTS = "max-age=63072000"
_KINDS = {kind.value for kind in ContactKind}
_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }} · {{ office }}</title>
<style>
body{font:1.125rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
color:#1b1b1b;background:#fff}
button{font:inherit;padding:.6rem 1.4rem;border:2px solid #1b1b1b;border-radius:.4rem;
background:#1b1b1b;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #0b57d0;outline-offset:3px}
footer{margin-top:3rem;color:#4a4a4a;font-size:1rem}
</style></head>
<body><main>
<h1>{{ title }}</h1>
<p>{{ message }}</p>
{% if button %}<form method="post">
<button type="submit" name="{{ field }}" value="{{ value }}">{{ button }}</button>
</form>{% endif %}
</main><footer>{{ office }}</footer></body></html>
"""
)


class _WithoutTokens(logging.Filter):
    """Cut the paths in uvicorn's access log to their first segment: the rest may be a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, HTTP version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            first, _, rest = args[2].partition("?")[0].lstrip("/").partition("/")
            record.args = (*args[:2], f"/{first}{'/…' if rest else ''}", *args[3:])
        return True


_WITHOUT_TOKENS = _WithoutTokens()


def security_headers(base_url: str) -> dict[str, str]:
    """The headers of every answer: ``SECURITY_HEADERS``, plus HSTS when ``base_url`` is https."""
    if urlsplit(base_url.strip()).scheme.lower() == "https":
        return {**SECURITY_HEADERS, "Strict-Transport-Security": HSTS}
    return dict(SECURITY_HEADERS)


class _WithHeaders:
    """ASGI wrapper that sets ``headers`` on every HTTP answer, replacing any of the same name."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message).update(self.headers)
            await send(message)

        await self.app(scope, receive, send_hardened)


class _PublicApp(FastAPI):
    """FastAPI with ``_WithHeaders`` outside its whole middleware stack.

    Middleware added with ``add_middleware`` runs inside Starlette's ServerErrorMiddleware, so
    the 500 page that one sends would go out without the headers.
    """

    def __init__(self, *, headers: Mapping[str, str]) -> None:
        # No API docs: this app faces the public and its pages carry a strict CSP.
        # No redirect_slashes: a cut link gets a page saying so, not a redirect elsewhere.
        super().__init__(docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)
        self.security_headers = dict(headers)

    def build_middleware_stack(self) -> ASGIApp:
        return _WithHeaders(super().build_middleware_stack(), self.security_headers)


def _masked(address: str) -> str:
    """Return ``a•••@example.com`` for ``alice@example.com``: enough to recognise, not to copy."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}•••{at}{domain}"


def _page(office: str, status: int, title: str, message: str, *, confirm: bool = False) -> Response:
    html = _PAGE.render(
        office=office,
        title=title,
        message=message,
        button="Unsubscribe" if confirm else None,
        field="List-Unsubscribe",
        value="One-Click",
    )
    return HTMLResponse(html, status_code=status)


def _delivery(connection: Connection, delivery_id: int) -> tuple[str, str] | None:
    """Return the delivery's (channel, address), or None if it is gone or had no address."""
    table = table_of(Delivery)
    row = connection.execute(
        sa.select(table.c.channel, table.c.address).where(
            table.c.id == delivery_id, table.c.address.is_not(None), table.c.address != ""
        )
    ).first()
    return None if row is None else (row.channel, row.address)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the public web app.

    Args:
        settings: the configuration; None reads ``ALUMNI_*`` (the database is
            ``ALUMNI_DATABASE_URL``, the signing key ``Settings.signing_key()``).
    """
    settings = settings or get_settings()
    engine: Engine = engine_for(settings.database_url)
    key = settings.signing_key()
    office = settings.office_name
    app = _PublicApp(headers=security_headers(settings.base_url))
    # On the logger, not a handler, so it holds under any logging configuration.
    logging.getLogger("uvicorn.access").addFilter(_WITHOUT_TOKENS)
    _add_error_pages(app, office=office)

    def refused(error: BadToken) -> Response:
        return _page(
            office, 400, "This link does not work", f"Sorry: {error}. Nothing was changed."
        )

    def delivery_id_of(token: str) -> int | BadToken:
        try:
            return int(read_token(key, UNSUBSCRIBE, token, now=utcnow()))
        except BadToken as error:
            return error
        except ValueError:  # authentic but not a delivery id: only a token made elsewhere
            return TamperedToken()

    def nothing_to_do() -> Response:
        message = "This link no longer leads to an address on our lists, so there is nothing to do."
        return _page(office, 200, "Nothing to do", message)

    # ``:path`` so that a link cut or garbled at a slash is still answered with the 400 page.
    @app.get("/unsubscribe/{token:path}", response_class=HTMLResponse)
    def confirm_unsubscribe(token: str) -> Response:
        delivery_id = delivery_id_of(token)
        if isinstance(delivery_id, BadToken):
            return refused(delivery_id)
        with engine.connect() as connection:
            found = _delivery(connection, delivery_id)
        if found is None:
            return nothing_to_do()
        title = f"Stop news and event emails to {_masked(found[1])}?"
        message = "You will still hear from us about requests you make yourself."
        return _page(office, 200, title, message, confirm=True)

    @app.post("/unsubscribe/{token:path}", response_class=HTMLResponse)
    def unsubscribe(token: str) -> Response:
        # The body (List-Unsubscribe=One-Click) is not read: the signed token is the whole request.
        delivery_id = delivery_id_of(token)
        if isinstance(delivery_id, BadToken):
            return refused(delivery_id)
        with write_transaction(engine) as connection:
            found = _delivery(connection, delivery_id)
            if found is None:
                return nothing_to_do()
            channel, address = found
            kind = channel if channel in _KINDS else ContactKind.email.value
            added = unsubscribe_address(connection, kind=kind, value=address, signing_key=key)
        if not added:
            return _page(office, 200, "Already unsubscribed", "We had already stopped them.")
        log.info("delivery %d: its address is unsubscribed from news and events", delivery_id)
        return _page(office, 200, "You are unsubscribed", "We will send no more news or events.")

    @app.api_route("/unsubscribe", methods=["GET", "POST"], response_class=HTMLResponse)
    def unsubscribe_without_token() -> Response:
        return refused(TamperedToken())

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            with engine.connect() as connection:
                connection.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            log.exception("health check: the database does not answer")
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    _add_rsvp_routes(app, engine=engine, key=key, office=office, settings=settings)
    _add_link_routes(app, engine=engine, key=key, office=office)
    return app


_ERROR_WORDS = {
    404: (
        "Nothing here",
        "This address does not lead to a page: if you followed a link, check that you copied "
        "the whole link.",
    ),
    405: (
        "This page cannot be used that way",
        "Open the link from the email in your web browser.",
    ),
}
_UNREADABLE = (
    "This request could not be read",
    "Open the link from the email in your web browser again.",
)


def _add_error_pages(app: FastAPI, *, office: str) -> None:
    """Plain-words HTML pages for routing, validation and server errors (no ids, no details)."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        title, message = _ERROR_WORDS.get(error.status_code, _UNREADABLE)
        response = _page(office, error.status_code, title, message)
        response.headers.update(error.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(RequestValidationError)
    async def unreadable(request: Request, error: RequestValidationError) -> Response:
        return _page(office, 422, *_UNREADABLE)

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> Response:
        # Starlette re-raises the error after this page is sent, so uvicorn logs the traceback.
        return _page(
            office,
            500,
            "Something went wrong on our side",
            "Please try the link again in a few minutes. If it still does not work, please "
            f"let {office} know.",
        )


def _add_link_routes(app: FastAPI, *, engine: Engine, key: bytes, office: str) -> None:
    """``/l/<token>``: a tracked link in a social post. Counts the click, then redirects to the
    campaign's ``--link``. The token (purpose ``click``, payload the post's idempotency key) is
    signed, so the redirect can only lead where the office said: never an open redirect."""

    @app.get("/l/{token:path}")
    def follow(token: str) -> Response:
        try:
            post_key = read_token(key, CLICK, token, now=utcnow())
        except BadToken as error:
            return _page(office, 400, "This link does not work", f"Sorry: {error}.")
        target = record_click(engine, post_key, now=utcnow())
        if target is None:
            return _page(office, 404, "Nothing here", "This post's link has been taken down.")
        return RedirectResponse(target, status_code=302)


def make_server(host: str, port: int, settings: Settings | None = None) -> uvicorn.Server:
    """Return a uvicorn server for :func:`create_app` (not yet running; call ``run()``).

    Args:
        host: the address to listen on, e.g. ``127.0.0.1`` behind a reverse proxy.
        port: the TCP port; 0 picks a free one (see ``server.servers`` once ``started``).
        settings: as for :func:`create_app`.
    """
    config = uvicorn.Config(create_app(settings), host=host, port=port, server_header=False)
    return uvicorn.Server(config)


def serve(host: str, port: int) -> None:
    """Run the web app on ``host:port`` until interrupted."""
    make_server(host, port).run()


_RSVP_WORDS = {"yes": "Yes, I will come", "no": "No, I cannot come", "maybe": "Maybe"}


def _add_rsvp_routes(
    app: FastAPI, *, engine: Engine, key: bytes, office: str, settings: Settings
) -> None:
    """``/rsvp/<token>``: GET shows the answer the link gives, POST records it.

    The token (purpose ``rsvp``, payload ``<delivery id>:<answer>``) expires when the event ends.
    """
    options = PlanOptions.from_settings(settings)

    def page(status: int, title: str, message: str, button: str | None = None) -> Response:
        html = _PAGE.render(
            office=office, title=title, message=message, button=button, field="", value=""
        )
        return HTMLResponse(html, status_code=status)

    def read(token: str) -> tuple[int, str] | BadToken:
        try:
            payload = read_token(key, RSVP, token, now=utcnow())
        except BadToken as error:
            return error
        delivery, _, answer = payload.partition(":")
        if not delivery.isdigit() or answer not in ANSWERS:
            return TamperedToken()  # authentic but not ours: only a token made elsewhere
        return int(delivery), answer

    def refused(error: BadToken) -> Response:
        return page(400, "This link does not work", f"Sorry: {error}. Nothing was changed.")

    def event_of(delivery_id: int) -> tuple[str, str] | None:
        """The (title, status) of the event a delivery invited to, or None."""
        with engine.connect() as connection:
            found = delivery_event(connection, delivery_id)
            if found is None:
                return None
            table = table_of(Event)
            row = connection.execute(
                sa.select(table.c.title, table.c.status).where(table.c.id == found[0])
            ).first()
        return None if row is None else (str(row.title), str(row.status))

    def closed(title: str, status: str) -> Response:
        if status == EventStatus.cancelled:
            return page(409, title, "This event is cancelled, so there is nothing to answer.")
        return page(409, title, "This event does not take answers yet; nothing was recorded.")

    @app.get("/rsvp/{token:path}", response_class=HTMLResponse)
    def confirm_rsvp(token: str) -> Response:
        found = read(token)
        if isinstance(found, BadToken):
            return refused(found)
        event = event_of(found[0])
        if event is None:
            return page(200, "Nothing to do", "This invitation is no longer on our lists.")
        if event[1] != EventStatus.scheduled:
            return closed(*event)
        return page(200, event[0], "Confirm your answer:", button=_RSVP_WORDS[found[1]])

    @app.post("/rsvp/{token:path}", response_class=HTMLResponse)
    def answer_rsvp(token: str) -> Response:
        found = read(token)
        if isinstance(found, BadToken):
            return refused(found)
        delivery_id, answer = found
        event = event_of(delivery_id)
        if event is None:
            return page(200, "Nothing to do", "This invitation is no longer on our lists.")
        if event[1] != EventStatus.scheduled:
            return closed(*event)
        try:
            outcome = apply_link(engine, delivery_id, answer, now=utcnow(), options=options)
        except RsvpError as error:
            # Its words name internal ids and states: for the log, not the page.
            log.warning("RSVP link of delivery %d not recorded: %s", delivery_id, error)
            return page(
                409,
                event[0],
                "We could not record your answer, and nothing was changed. Please reply to "
                "the invitation email instead.",
            )
        title = event[0]
        if outcome.waitlisted:
            return page(
                200,
                title,
                "The event is full: you are on the waitlist, and we will write to "
                "you if a place frees up.",
            )
        return page(200, title, f"Thank you: we recorded your answer ({_RSVP_WORDS[answer]}).")
