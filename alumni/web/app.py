"""The public web app behind the links in our emails and posts (``alumni serve``): it puts the
pages together and serves them.

Pages, one module each: ``unsubscribe`` (``/unsubscribe/<token>``), ``rsvp``
(``/rsvp/<token>``), ``preferences`` (``/preferences/<token>``), ``details``
(``/details/<token>``), ``request_form`` (``/requests/new/<token>``: ask the office for
something), ``request_status`` (``/requests/<token>``: where one request stands), ``clicks``
(``/l/<token>``, tracked links in posts), ``tip_form`` (``/tip/<token>``: how to reach a lost
classmate; ``/consent/<token>``: a found alum's yes or no), ``ambassador_page``
(``/ambassador/<token>``: an ambassador's class page), ``join`` (``/join/<code>``: sign up
through a share link, and ``/join/confirm/<token>``: confirm the address), ``errors`` (the
plain-words error pages);
``/healthz`` is here. They share one look (``look``, templates under
``templates/``), the alum's language (``i18n``), form tokens against cross-site requests
(``csrf``) and form reading (``forms``).

No cookies, no caching; no redirect but a saved form's 303 to its own page (the request form's
to the new request's page) and a tracked link's 302 to the office's own target. Tokens and
addresses never reach a log: uvicorn's access log is cut to the first path segment. Nothing
changes on a GET.

Every answer carries ``SECURITY_HEADERS`` (and ``Strict-Transport-Security`` when
``ALUMNI_BASE_URL`` is https), error pages included: the headers are set outside Starlette's
outermost error handler, so even a 500 has them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alumni.settings import Settings, get_settings
from alumni.web import (
    ambassador_page,
    clicks,
    details,
    join,
    preferences,
    request_form,
    request_status,
    rsvp,
    tip_form,
    unsubscribe,
)
from alumni.web.errors import add_error_pages
from alumni.web.site import Site

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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the public web app.

    Args:
        settings: the configuration; None reads ``ALUMNI_*`` (the database is
            ``ALUMNI_DATABASE_URL``, the signing key ``Settings.signing_key()``).
    """
    settings = settings or get_settings()
    site = Site.from_settings(settings)
    app = _PublicApp(headers=security_headers(settings.base_url))
    # On the logger, not a handler, so it holds under any logging configuration.
    logging.getLogger("uvicorn.access").addFilter(_WITHOUT_TOKENS)
    add_error_pages(app, site)
    # The request form before the status pages: both live under /requests/.
    for pages in (
        unsubscribe,
        rsvp,
        preferences,
        details,
        request_form,
        request_status,
        clicks,
        tip_form,
    ):
        pages.add_routes(app, site)
    ambassador_page.add_routes(app, site)
    join.add_routes(app, site)

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            with site.engine.connect() as connection:
                connection.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            log.exception("health check: the database does not answer")
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


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
