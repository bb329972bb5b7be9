"""``/l/<token>``: a tracked link in a social post. Counts the click (at most one per link per
hour, ``alumni.social.clicks``), then redirects to the campaign's ``--link``.

The token (purpose ``click``, payload the post's idempotency key) is signed, so the redirect
can only lead where the office said: never an open redirect. A post is read by anyone, so a
click names no alum: it counts for the post and never as an alum's two-way contact.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from alumni.messages.signing import BadToken, read_token
from alumni.models import utcnow
from alumni.social.clicks import CLICK, record_click
from alumni.web.site import Site, request_words

__all__ = ["add_routes"]


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/l/<token>`` (GET)."""

    @app.get("/l/{token:path}")
    def follow(request: Request, token: str) -> Response:
        try:
            post_key = read_token(site.key, CLICK, token, now=utcnow())
        except BadToken as error:
            return site.refused(request_words(request), error)
        target = record_click(site.engine, post_key, now=utcnow())
        if target is None:
            words = request_words(request)
            return site.message(words, 404, words("not_found_title"), words("link_gone"))
        return RedirectResponse(target, status_code=302)
