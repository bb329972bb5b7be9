"""What every page needs: the database, the signing key, the office, and the pages that every
part of the app shows alike (a plain message, a link that cannot be used, a stale form).

The language of a page is the alum's when the link names them (``words_of_alum``), else the
browser's (``request_words``); see ``alumni.web.i18n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from alumni.db import engine_for
from alumni.delivery.planning import PlanOptions
from alumni.messages.signing import BadToken, ExpiredToken
from alumni.settings import Settings
from alumni.web.i18n import Words, accepted_locale, page_locale, words_for
from alumni.web.look import render

__all__ = ["Site", "request_words", "words_of_alum"]


def request_words(request: Request) -> Words:
    """The words of the browser's first language we have (``Accept-Language``), else English."""
    return words_for(accepted_locale(request.headers.get("accept-language")))


def words_of_alum(locale: str | None) -> Words:
    """The words of an alum's language (``Alumnus.locale``), falling back as emails do."""
    return words_for(page_locale(locale))


@dataclass(frozen=True)
class Site:
    """The app's configuration as its pages use it, read once from the settings."""

    engine: Engine
    key: bytes = field(repr=False)  # signs and checks every link and form: never in a repr
    office: str
    office_email: str
    office_timezone: str
    plan_options: PlanOptions  # how an RSVP plans the waitlist notices it causes
    settings: Settings = field(repr=False)  # the request pages' office calendar and mail server

    @classmethod
    def from_settings(cls, settings: Settings) -> Site:
        """Read the database URL, the signing key and the office from ``settings``."""
        return cls(
            engine=engine_for(settings.database_url),
            key=settings.signing_key(),
            office=settings.office_name,
            office_email=parseaddr(settings.sender)[1],
            office_timezone=settings.office_timezone,
            plan_options=PlanOptions.from_settings(settings),
            settings=settings,
        )

    def page(
        self, template: str, *, status: int, words: Words, title: str, **context: Any
    ) -> HTMLResponse:
        """Render one of the app's pages (``alumni.web.look.render``)."""
        return render(
            template, status=status, words=words, office=self.office, title=title, **context
        )

    def message(self, words: Words, status: int, title: str, text: str) -> HTMLResponse:
        """A page that only says something: a title and a paragraph."""
        return self.page("message.html.j2", status=status, words=words, title=title, text=text)

    def refused(self, words: Words, error: BadToken) -> HTMLResponse:
        """The 400 page of a link that cannot be used: damaged, for another page, or expired."""
        if isinstance(error, ExpiredToken):
            reason = words("expired", date=words.day(error.expires_at))
        else:
            reason = words("damaged")
        return self.message(words, 400, words("link_broken"), words("sorry", reason=reason))

    def stale_form(self, words: Words) -> HTMLResponse:
        """The 403 page of a POST whose form token is missing, forged, for another page or old."""
        return self.message(words, 403, words("form_stale_title"), words("form_stale"))
