"""The link an alum's own page was opened with: who it names, or the page that says why not.

The preference and "still yours?" pages are reached by a page link (``alumni.messages.
page_links``: signed, scoped to its page, 90 days). ``alum_of_link`` reads it and the alum:

- damaged, cut short or made for another page: the 400 page, in the browser's language;
- expired: a 400 page in the alum's language that says when it expired and what to do;
- naming nobody on our lists (deleted, or erased at their request): a page with nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import HTMLResponse

from alumni.messages.page_links import read_page_token
from alumni.messages.signing import BadToken, ExpiredToken
from alumni.models import Alumnus, AlumnusStatus, table_of, utcnow
from alumni.people.names import greeting_name
from alumni.web.i18n import Words
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["Alum", "alum_of_link"]

_A = table_of(Alumnus)


@dataclass(frozen=True)
class Alum:
    """The alum a page link names, and the page's language for them."""

    id: int
    first_name: str
    timezone: str | None
    country: str | None
    words: Words
    greeting_name: str  # "Ana", or "Tanaka Hiroshi" where the family name comes first
    city: str | None


def _alum(site: Site, alumnus_id: int) -> Alum | None:
    with site.engine.connect() as connection:
        row = connection.execute(
            sa.select(
                _A.c.id,
                _A.c.first_name,
                _A.c.last_name,
                _A.c.timezone,
                _A.c.country,
                _A.c.city,
                _A.c.locale,
                _A.c.status,
            ).where(_A.c.id == alumnus_id)
        ).first()
    if row is None or row.status == AlumnusStatus.erased:
        return None
    greeting = greeting_name(row.first_name, row.last_name, locale=row.locale, country=row.country)
    words = words_of_alum(row.locale)
    return Alum(row.id, row.first_name, row.timezone, row.country, words, greeting, row.city)


def alum_of_link(site: Site, request: Request, page: str, token: str) -> Alum | HTMLResponse:
    """Return the alum the ``page`` link token names, or the page to answer instead."""
    try:
        alumnus_id = read_page_token(site.key, page, token, now=utcnow())
    except ExpiredToken as error:
        expired = _alum(site, int(error.payload)) if error.payload.isdigit() else None
        if expired is None:
            return site.refused(request_words(request), error)
        words = expired.words
        text = words(
            "page_expired",
            date=words.day(error.expires_at, expired.timezone),
            email=site.office_email,
        )
        return site.message(words, 400, words("page_expired_title"), text)
    except BadToken as error:
        return site.refused(request_words(request), error)
    alum = _alum(site, alumnus_id)
    if alum is None:
        words = request_words(request)
        return site.message(words, 200, words("nobody_title"), words("nobody"))
    return alum
