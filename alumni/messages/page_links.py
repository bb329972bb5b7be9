"""The signed links to an alum's own pages that every message carries (preferences, details,
the request form, the tip form about lost classmates, the consent question), and the link to
one request's status page that each notice about it carries.

A page link is ``<base URL>/<path>/<token>`` (``PAGE_PATHS``: ``preferences``, ``details``,
``requests/new``, ``tip``, ``consent``): the token (``alumni.messages.signing``) is scoped to
its page, carries the alumnus id and nothing else (never an address) and expires
``PAGE_LINK_LIFETIME`` after the message was made. A token for one page fails on another like
a damaged one.

A request's status link is ``<base URL>/requests/<token>``: scoped to ``REQUEST_STATUS``, it
carries the request's id and expires ``REQUEST_STATUS_LIFETIME`` after the notice was made.

Example:
    >>> from datetime import UTC, datetime
    >>> key, now = b"k" * 32, datetime(2025, 5, 1, tzinfo=UTC)
    >>> link = page_link(key, "https://alumni.school.example", PREFERENCES, 42, now=now)
    >>> read_page_token(key, PREFERENCES, link.rsplit("/", 1)[1], now=now)
    42
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from alumni.messages.signing import TamperedToken, make_token, read_token, token_maker

__all__ = [
    "CONSENT",
    "DETAILS",
    "PAGES",
    "PAGE_LINK_LIFETIME",
    "PAGE_PATHS",
    "PREFERENCES",
    "REQUEST",
    "REQUEST_STATUS",
    "REQUEST_STATUS_LIFETIME",
    "TIP",
    "page_link",
    "page_linker",
    "read_page_token",
    "read_request_status_token",
    "request_status_link",
]

PREFERENCES: Final = "preferences"
DETAILS: Final = "details"
REQUEST: Final = "request"  # the form that asks the office for something
TIP: Final = "tip"  # "I know how to reach a lost classmate" (``alumni.web.tip_form``)
CONSENT: Final = "consent"  # "do you want to hear from us?", asked once of a lost alum found
PAGES: Final = (PREFERENCES, DETAILS, REQUEST, TIP, CONSENT)
# Where each page is served; the request form sits beside the status pages of requests.
PAGE_PATHS: Final = {
    PREFERENCES: "preferences",
    DETAILS: "details",
    REQUEST: "requests/new",
    TIP: "tip",
    CONSENT: "consent",
}
# Long enough to reach the next message of a busy year; short enough that a forwarded or
# leaked old email stops opening someone's pages.
PAGE_LINK_LIFETIME: Final = timedelta(days=90)
REQUEST_STATUS: Final = "request-status"
# A request may take months (a letter for next year's applications); every notice renews it.
REQUEST_STATUS_LIFETIME: Final = timedelta(days=180)


def _check_page(purpose: str) -> None:
    if purpose not in PAGES:
        raise ValueError(f"page {purpose!r} has no links: use one of {', '.join(PAGES)}")


def _read_id(key: bytes, purpose: str, token: str, *, now: datetime) -> int:
    payload = read_token(key, purpose, token, now=now)
    if not payload.isdigit():  # authentic but not an id: only a token made elsewhere
        raise TamperedToken()
    return int(payload)


def page_link(key: bytes, base_url: str, purpose: str, alumnus_id: int, *, now: datetime) -> str:
    """Return the link to an alum's ``purpose`` page, working for 90 days from ``now``.

    Raises:
        ValueError: an unknown page, a short key or a naive ``now``.
    """
    return page_linker(key, base_url, purpose, now=now)(alumnus_id)


def page_linker(key: bytes, base_url: str, purpose: str, *, now: datetime) -> Callable[[int], str]:
    """Return ``page_link`` with all but the alum fixed and checked once: what makes the
    ``purpose`` links of every message of one mailing (a function of the alumnus id).

    Raises:
        ValueError: an unknown page, a short key or a naive ``now``.
    """
    _check_page(purpose)
    make = token_maker(key, purpose, expires_at=now + PAGE_LINK_LIFETIME)
    prefix = f"{base_url.rstrip('/')}/{PAGE_PATHS[purpose]}/"
    return lambda alumnus_id: prefix + make(str(alumnus_id))


def read_page_token(key: bytes, purpose: str, token: str, *, now: datetime) -> int:
    """Return the alumnus id a ``purpose`` page token carries.

    Raises:
        TamperedToken: damaged, for another page or key, or not carrying an alumnus id.
        ExpiredToken: authentic but expired; ``int(error.payload)`` is still the alumnus id.
        ValueError: an unknown page, a short key or a naive ``now``.
    """
    _check_page(purpose)
    return _read_id(key, purpose, token, now=now)


def request_status_link(key: bytes, base_url: str, request_id: int, *, now: datetime) -> str:
    """Return the link to the status page of request ``request_id``, working for 180 days.

    Raises:
        ValueError: a short key or a naive ``now``.
    """
    token = make_token(
        key, REQUEST_STATUS, str(request_id), expires_at=now + REQUEST_STATUS_LIFETIME
    )
    return f"{base_url.rstrip('/')}/requests/{token}"


def read_request_status_token(key: bytes, token: str, *, now: datetime) -> int:
    """Return the request id a status-page token carries.

    Raises:
        TamperedToken: damaged, for another page or key, or not carrying a request id.
        ExpiredToken: authentic but expired; ``int(error.payload)`` is still the request id.
    """
    return _read_id(key, REQUEST_STATUS, token, now=now)
