"""``/unsubscribe/<token>``: stop news and events to the address a delivery went to.

- ``GET`` shows a confirmation page (the address masked) and never changes anything, because
  mail scanners follow links;
- ``POST`` is RFC 8058 one-click (``List-Unsubscribe=One-Click`` from a mail client, or the
  page's button): the address is suppressed for news and events at once, and the alum's last
  two-way contact is noted (channel ``web``). It answers with the page itself, not a redirect:
  a mail client posts it without a page to come back to, and sending it again only says
  "Already unsubscribed". It needs no form token (``alumni.web.csrf``).

The token (purpose ``unsubscribe``, payload the delivery id) never expires: an unsubscribe
link keeps working as long as the delivery exists. Pages are in the alum's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from alumni.db import write_transaction
from alumni.delivery.sending import UNSUBSCRIBE
from alumni.messages.page_links import PREFERENCES, page_link
from alumni.messages.signing import BadToken, TamperedToken, read_token
from alumni.models import Alumnus, ContactKind, Delivery, table_of, utcnow
from alumni.people.suppression import unsubscribe as unsubscribe_address
from alumni.people.two_way import note_two_way
from alumni.tracking.web_answers import record_web_answer
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["add_routes", "masked"]

log = logging.getLogger(__name__)

_A = table_of(Alumnus)
_D = table_of(Delivery)
_KINDS = {kind.value for kind in ContactKind}


def masked(address: str) -> str:
    """Return ``a•••@example.com`` for ``alice@example.com``: enough to recognise, not to copy."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}•••{at}{domain}"


@dataclass(frozen=True)
class _Sent:
    """The delivery an unsubscribe link names: where it went, to whom."""

    channel: str
    address: str
    alumnus_id: int
    locale: str | None


def _delivery(connection: Connection, delivery_id: int) -> _Sent | None:
    """The delivery with its address and alum, or None if it is gone or had no address."""
    row = connection.execute(
        sa.select(_D.c.channel, _D.c.address, _D.c.alumnus_id, _A.c.locale)
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .where(_D.c.id == delivery_id, _D.c.address.is_not(None), _D.c.address != "")
    ).first()
    return None if row is None else _Sent(row.channel, row.address, row.alumnus_id, row.locale)


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/unsubscribe/<token>`` (GET, POST) and a bare ``/unsubscribe`` that says the link
    is incomplete."""

    def delivery_id_of(token: str) -> int | BadToken:
        try:
            return int(read_token(site.key, UNSUBSCRIBE, token, now=utcnow()))
        except BadToken as error:
            return error
        except ValueError:  # authentic but not a delivery id: only a token made elsewhere
            return TamperedToken()

    def nothing_to_do(request: Request) -> HTMLResponse:
        words = request_words(request)
        return site.message(words, 200, words("nobody_title"), words("unsub_gone"))

    # ``:path`` so that a link cut or garbled at a slash is still answered with the 400 page.
    @app.get("/unsubscribe/{token:path}", response_class=HTMLResponse)
    def confirm_unsubscribe(request: Request, token: str) -> HTMLResponse:
        delivery_id = delivery_id_of(token)
        if isinstance(delivery_id, BadToken):
            return site.refused(request_words(request), delivery_id)
        with site.engine.connect() as connection:
            found = _delivery(connection, delivery_id)
        if found is None:
            return nothing_to_do(request)
        words = words_of_alum(found.locale)
        # Relative to this page, so it works under any prefix the app is served at.
        preferences = "../" + page_link(
            site.key, "", PREFERENCES, found.alumnus_id, now=utcnow()
        ).lstrip("/")
        return site.page(
            "unsubscribe.html.j2",
            status=200,
            words=words,
            title=words("unsub_title", address=masked(found.address)),
            preferences=preferences,
        )

    @app.post("/unsubscribe/{token:path}", response_class=HTMLResponse)
    def unsubscribe(request: Request, token: str) -> HTMLResponse:
        # The body (List-Unsubscribe=One-Click) is not read: the signed token is the whole request.
        delivery_id = delivery_id_of(token)
        if isinstance(delivery_id, BadToken):
            return site.refused(request_words(request), delivery_id)
        now = utcnow()
        with write_transaction(site.engine) as connection:
            found = _delivery(connection, delivery_id)
            if found is None:
                return nothing_to_do(request)
            kind = found.channel if found.channel in _KINDS else ContactKind.email.value
            added = unsubscribe_address(
                connection, kind=kind, value=found.address, signing_key=site.key
            )
            note_two_way(connection, found.alumnus_id, at=now, channel="web")
            record_web_answer(connection, kind="unsubscribe", delivery_id=delivery_id, now=now)
        words = words_of_alum(found.locale)
        if not added:
            return site.message(words, 200, words("unsub_again_title"), words("unsub_again"))
        log.info("delivery %d: its address is unsubscribed from news and events", delivery_id)
        return site.message(words, 200, words("unsub_done_title"), words("unsub_done"))

    @app.api_route("/unsubscribe", methods=["GET", "POST"], response_class=HTMLResponse)
    def unsubscribe_without_token(request: Request) -> HTMLResponse:
        return site.refused(request_words(request), TamperedToken())
