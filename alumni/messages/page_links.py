"""The signed links to an alum's own pages that every message carries: preferences and details.

A page link is ``<base URL>/<purpose>/<token>``: the token (``alumni.messages.signing``) is
scoped to its page (``preferences`` or ``details``), carries the alumnus id and nothing else
(never an address) and expires ``PAGE_LINK_LIFETIME`` after the message was made. A token
for one page fails on the other like a damaged one.

Example:
    >>> from datetime import UTC, datetime
    >>> key, now = b"k" * 32, datetime(2025, 5, 1, tzinfo=UTC)
    >>> link = page_link(key, "https://alumni.school.example", PREFERENCES, 42, now=now)
    >>> read_page_token(key, PREFERENCES, link.rsplit("/", 1)[1], now=now)
    42
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from alumni.messages.signing import TamperedToken, make_token, read_token

__all__ = ["DETAILS", "PAGES", "PAGE_LINK_LIFETIME", "PREFERENCES", "page_link", "read_page_token"]

PREFERENCES: Final = "preferences"
DETAILS: Final = "details"
PAGES: Final = (PREFERENCES, DETAILS)
# Long enough to reach the next message of a busy year; short enough that a forwarded or
# leaked old email stops opening someone's pages.
PAGE_LINK_LIFETIME: Final = timedelta(days=90)


def _check_page(purpose: str) -> None:
    if purpose not in PAGES:
        raise ValueError(f"page {purpose!r} has no links: use one of {', '.join(PAGES)}")


def page_link(key: bytes, base_url: str, purpose: str, alumnus_id: int, *, now: datetime) -> str:
    """Return the link to an alum's ``purpose`` page, working for 90 days from ``now``.

    Raises:
        ValueError: an unknown page, a short key or a naive ``now``.
    """
    _check_page(purpose)
    token = make_token(key, purpose, str(alumnus_id), expires_at=now + PAGE_LINK_LIFETIME)
    return f"{base_url.rstrip('/')}/{purpose}/{token}"


def read_page_token(key: bytes, purpose: str, token: str, *, now: datetime) -> int:
    """Return the alumnus id a ``purpose`` page token carries.

    Raises:
        TamperedToken: damaged, for another page or key, or not carrying an alumnus id.
        ExpiredToken: authentic but expired; ``int(error.payload)`` is still the alumnus id.
        ValueError: an unknown page, a short key or a naive ``now``.
    """
    _check_page(purpose)
    payload = read_token(key, purpose, token, now=now)
    if not payload.isdigit():  # authentic but not an alumnus id: only a token made elsewhere
        raise TamperedToken()
    return int(payload)
