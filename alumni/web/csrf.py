"""Form tokens: every form's POST must carry one, made for that very page a short while ago.

The app sets no cookies, so a page's only authority is the signed token in its link. A form
token adds that the POST comes from the form we showed: it is a signed token (purpose
``form``, ``alumni.messages.signing``) whose payload is a digest of the page's link token, so
it works on that page only, and it expires ``FORM_TOKEN_LIFETIME`` after the page was shown.
It travels in a hidden field (``FIELD``); a POST without one, with a forged one, one made for
another page, or an expired one is refused with a 403 page and changes nothing.

The unsubscribe POST is the one exception: it is RFC 8058 one-click, which mail clients send
without ever showing the page, and it can only stop mail to the address its own link names.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Final

from alumni.messages.signing import BadToken, make_token, read_token

__all__ = ["FIELD", "FORM_TOKEN_LIFETIME", "form_token", "form_token_ok"]

FIELD: Final = "form_token"
# Long enough to read a page and fill in a form at leisure, short enough that an old copy of
# a page cannot be replayed days later.
FORM_TOKEN_LIFETIME: Final = timedelta(hours=2)
_PURPOSE: Final = "form"


def _bound_to(page: str, page_token: str) -> str:
    return f"{page}:{hashlib.sha256(page_token.strip().encode()).hexdigest()[:32]}"


def form_token(key: bytes, page: str, page_token: str, *, now: datetime) -> str:
    """The form token of the page ``page`` (e.g. ``preferences``) opened with ``page_token``."""
    return make_token(
        key, _PURPOSE, _bound_to(page, page_token), expires_at=now + FORM_TOKEN_LIFETIME
    )


def form_token_ok(
    key: bytes, page: str, page_token: str, submitted: str | None, *, now: datetime
) -> bool:
    """True when ``submitted`` is a form token of this page that has not expired."""
    if not submitted:
        return False
    try:
        payload = read_token(key, _PURPOSE, submitted, now=now)
    except BadToken:
        return False
    return payload == _bound_to(page, page_token)
