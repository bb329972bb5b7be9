"""The signed link an ambassador acts through: their class page (``/ambassador/<token>``).

The token (``alumni.messages.signing``, purpose ``ambassador``) carries the id of the
``Ambassador`` row and nothing else: the class comes from that row when the link is used, never
from the link or a form, and removing the role deletes the row, so an ex-ambassador's old link
names nobody. It expires ``AMBASSADOR_LINK_LIFETIME`` after it was made; the monthly digest
brings a fresh one.

Example:
    >>> from datetime import UTC, datetime
    >>> key, now = b"k" * 32, datetime(2026, 11, 1, tzinfo=UTC)
    >>> link = ambassador_link(key, "https://alumni.school.example", 7, now=now)
    >>> read_ambassador_token(key, link.rsplit("/", 1)[1], now=now)
    7
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from alumni.messages.signing import TamperedToken, make_token, read_token

__all__ = ["AMBASSADOR", "AMBASSADOR_LINK_LIFETIME", "ambassador_link", "read_ambassador_token"]

AMBASSADOR: Final = "ambassador"
# Two digests' worth: last month's link still works while this month's is on its way.
AMBASSADOR_LINK_LIFETIME: Final = timedelta(days=62)


def ambassador_link(key: bytes, base_url: str, ambassador_id: int, *, now: datetime) -> str:
    """The link to the class page of the ambassador role ``ambassador_id`` (an ``Ambassador``
    row's id), working for ``AMBASSADOR_LINK_LIFETIME`` from ``now``.

    Raises:
        ValueError: a short key or a naive ``now``.
    """
    token = make_token(
        key, AMBASSADOR, str(ambassador_id), expires_at=now + AMBASSADOR_LINK_LIFETIME
    )
    return f"{base_url.rstrip('/')}/ambassador/{token}"


def read_ambassador_token(key: bytes, token: str, *, now: datetime) -> int:
    """The ``Ambassador`` row id an ambassador-page token carries.

    Raises:
        TamperedToken: damaged, for another page or key, or not carrying an id.
        ExpiredToken: authentic but expired.
    """
    payload = read_token(key, AMBASSADOR, token, now=now)
    if not payload.isdigit():  # authentic but not an id: only a token made elsewhere
        raise TamperedToken()
    return int(payload)
