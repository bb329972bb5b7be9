"""Signed, purpose-scoped, optionally expiring tokens for links (unsubscribe, RSVP, forms).

A token is ``<payload>.<expiry>.<mac>``: the payload in URL-safe base64, the expiry in base 36
Unix seconds (empty when the token never expires) and an HMAC-SHA256 over the purpose and both
fields. A delivery id gives a token of about 55 characters. The purpose is not carried in the
token, so a token made for another purpose fails like a damaged one::

    BadToken                a link that cannot be used; str() is a message for the person
    ├── TamperedToken       damaged, truncated, for another purpose or another key
    └── ExpiredToken        authentic but past its expiry (``payload`` still readable)

``token_maker`` checks the key, purpose and expiry once for the many tokens of one mailing.

Example:
    >>> key = b"k" * 32
    >>> token = make_token(key, "unsubscribe", "4711")
    >>> read_token(key, "unsubscribe", token, now=datetime.now(UTC))
    '4711'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = [
    "BadToken",
    "ExpiredToken",
    "TamperedToken",
    "make_return_token",
    "make_short_code",
    "make_token",
    "read_return_token",
    "read_short_code",
    "read_token",
    "token_maker",
]

MIN_KEY_BYTES = 32
_MAC_CHARS = 43  # 32 bytes of HMAC-SHA256 in unpadded base64
_MAX_TOKEN_CHARS = 4096
_PURPOSE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TOKEN_RE = re.compile(
    rf"(?P<payload>[A-Za-z0-9_-]*)\.(?P<expiry>(?:[1-9a-z][0-9a-z]{{0,12}})?)\."
    rf"(?P<mac>[A-Za-z0-9_-]{{{_MAC_CHARS}}})"
)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# A return-path token: lower case only, since some servers lower-case the local part of a bounce
# address; 80 bits of HMAC, enough that nobody guesses one for a delivery they did not receive.
_RETURN_TOKEN_RE = re.compile(r"d(?P<id>0|[1-9][0-9]{0,17})-(?P<mac>[a-z2-7]{16})")
# A short code (a referral link's): an id in base 36 and 80 bits of HMAC, lower case.
_SHORT_CODE_RE = re.compile(r"(?P<id>0|[1-9a-z][0-9a-z]{0,12})-(?P<mac>[a-z2-7]{16})")
_DAMAGED = "this link is damaged or incomplete: copy the whole link from the email"


class BadToken(Exception):
    """A token that cannot be used; ``str(error)`` is a message to show the person."""


class TamperedToken(BadToken):
    """The token was changed, cut short, made for another purpose or signed with another key."""

    def __init__(self) -> None:
        super().__init__(_DAMAGED)


class ExpiredToken(BadToken):
    """An authentic token past its expiry.

    ``payload`` is authentic, so a caller may still honour it where the law asks (an unsubscribe).
    """

    def __init__(self, *, payload: str, expires_at: datetime) -> None:
        super().__init__(
            f"this link expired on {expires_at:%Y-%m-%d at %H:%M} UTC; ask for a new one"
        )
        self.payload = payload
        self.expires_at = expires_at


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the signing key has {len(key)} bytes; use at least {MIN_KEY_BYTES} random bytes "
            "(ALUMNI_SECRET_KEY)"
        )


def _check_purpose(purpose: str) -> None:
    if _PURPOSE_RE.fullmatch(purpose) is None:
        raise ValueError(f"token purpose {purpose!r} must be 1-64 letters, digits or any of '_.:-'")


def _seconds(moment: datetime, name: str) -> int:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone: pass an aware datetime")
    return int(moment.timestamp())


def _base36(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
    return "".join(reversed(digits))


# What every token's MAC starts with (its version); not a secret.
_MAC_LABEL = "alumni-token-v1"


def _mac(key: bytes, purpose: str, payload: str, expiry: str) -> str:
    # hmac.new, not hmac.digest: the one-shot lets go of the GIL for each MAC, and composing
    # then waits behind the SMTP threads to get it back (py-spy: 7% of a send's samples).
    # The fields as written in the token are signed, so no other spelling of them verifies.
    message = f"{_MAC_LABEL}|{purpose}|{payload}|{expiry}".encode("ascii")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_token(
    key: bytes, purpose: str, payload: str, *, expires_at: datetime | None = None
) -> str:
    """Return a URL-safe token that carries ``payload`` for ``purpose`` until ``expires_at``.

    Args:
        key: the signing key, at least 32 bytes (``Settings.signing_key()``).
        purpose: what the token is for, e.g. ``unsubscribe`` or ``rsvp``; checked when read.
        payload: the text to carry, e.g. a delivery id; readable by anyone holding the link.
        expires_at: when the token stops working (aware, kept to the second); None: never.

    Raises:
        ValueError: the key is short, the purpose malformed or ``expires_at`` naive or before 1970.
    """
    return token_maker(key, purpose, expires_at=expires_at)(payload)


def token_maker(
    key: bytes, purpose: str, *, expires_at: datetime | None = None
) -> Callable[[str], str]:
    """Return ``make_token`` with the key, purpose and expiry fixed and checked once: what
    makes the tokens of every message of one mailing (a function of the payload).

    Raises:
        ValueError: as ``make_token``.
    """
    _check_key(key)
    _check_purpose(purpose)
    expiry = ""
    if expires_at is not None:
        seconds = _seconds(expires_at, "expires_at")
        if seconds <= 0:
            raise ValueError(f"expires_at {expires_at.isoformat()} is before 1970")
        expiry = _base36(seconds)

    # HMAC's state after the fixed start of the message ``_mac`` signs, copied for each token
    start = hmac.new(key, f"{_MAC_LABEL}|{purpose}|".encode("ascii"), hashlib.sha256)

    def make(payload: str) -> str:
        encoded = base64.urlsafe_b64encode(payload.encode("utf-8")).rstrip(b"=").decode("ascii")
        digest = start.copy()
        digest.update(f"{encoded}|{expiry}".encode("ascii"))
        mac = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
        return f"{encoded}.{expiry}.{mac}"

    return make


def read_token(key: bytes, purpose: str, token: str, *, now: datetime) -> str:
    """Return the payload of a token made by :func:`make_token` for ``purpose``.

    Args:
        key: the key the token was made with.
        purpose: the purpose it must have been made for.
        token: the token as found in the link (surrounding whitespace is ignored).
        now: the current time, aware.

    Raises:
        TamperedToken: the token is damaged, truncated, for another purpose or another key.
        ExpiredToken: the token is authentic but ``now`` is at or past its expiry.
        ValueError: the key is short, the purpose malformed or ``now`` naive.
    """
    _check_key(key)
    _check_purpose(purpose)
    current = _seconds(now, "now")
    token = token.strip()
    match = _TOKEN_RE.fullmatch(token) if len(token) <= _MAX_TOKEN_CHARS else None
    if match is None:
        raise TamperedToken()
    encoded, expiry, mac = match["payload"], match["expiry"], match["mac"]
    expected = _mac(key, purpose, encoded, expiry)
    if not hmac.compare_digest(expected.encode("ascii"), mac.encode("ascii")):
        raise TamperedToken()
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:  # only a token made elsewhere
        raise TamperedToken() from exc
    if expiry and current >= int(expiry, 36):
        raise ExpiredToken(payload=payload, expires_at=datetime.fromtimestamp(int(expiry, 36), UTC))
    return payload


def _return_mac(key: bytes, delivery_id: int) -> str:
    message = f"alumni-return-v1|{delivery_id}".encode("ascii")
    digest = hmac.new(key, message, hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode("ascii").lower()


def return_token_maker(key: bytes) -> Callable[[int], str]:
    """Return ``make_return_token`` with the key checked once: what makes the return paths
    of every message of one mailing (a function of the delivery id).

    Raises:
        ValueError: the key is short; the function raises for a negative delivery id.
    """
    _check_key(key)
    start = hmac.new(key, b"alumni-return-v1|", hashlib.sha256)

    def make(delivery_id: int) -> str:
        if delivery_id < 0:
            raise ValueError(f"delivery id {delivery_id} must not be negative")
        digest = start.copy()
        digest.update(str(delivery_id).encode("ascii"))
        return f"d{delivery_id}-{base64.b32encode(digest.digest()[:10]).decode('ascii').lower()}"

    return make


def make_return_token(key: bytes, delivery_id: int) -> str:
    """Return the token a delivery's return path carries (``d<id>-<mac>``, lower case).

    A bounce to ``<bounce-local>+<token>@domain`` is tied to the delivery only when the token
    reads back with :func:`read_return_token`: nobody can forge a bounce that suppresses
    someone else's address without having received one of their messages.

    Raises:
        ValueError: the key is short or ``delivery_id`` is negative (0: a preview's, which
            matches no delivery).
    """
    return return_token_maker(key)(delivery_id)


def read_return_token(key: bytes, token: str) -> int:
    """Return the delivery id of a token made by :func:`make_return_token`.

    Case is ignored (a server may have changed it).

    Raises:
        TamperedToken: the token is not one of ours (malformed, or its MAC does not match).
    """
    _check_key(key)
    match = _RETURN_TOKEN_RE.fullmatch(token.strip().lower())
    if match is None:
        raise TamperedToken()
    delivery_id = int(match["id"])
    if not hmac.compare_digest(_return_mac(key, delivery_id), match["mac"]):
        raise TamperedToken()
    return delivery_id


def _short_mac(key: bytes, purpose: str, number: int) -> str:
    message = f"alumni-short-v1|{purpose}|{number}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode("ascii").lower()


def make_short_code(key: bytes, purpose: str, number: int) -> str:
    """Return a short code for ``purpose`` carrying ``number`` (``<base 36>-<mac>``, about 20
    characters, lower case, never expiring): for links people type or post (a referral link).

    Raises:
        ValueError: the key is short, the purpose malformed or ``number`` negative.
    """
    _check_key(key)
    _check_purpose(purpose)
    if number < 0:
        raise ValueError(f"number {number} must not be negative")
    return f"{_base36(number) or '0'}-{_short_mac(key, purpose, number)}"


def read_short_code(key: bytes, purpose: str, code: str) -> int:
    """Return the number a code made by :func:`make_short_code` for ``purpose`` carries.

    Case is ignored (people retype codes).

    Raises:
        TamperedToken: not one of ours: malformed, for another purpose or key.
    """
    _check_key(key)
    _check_purpose(purpose)
    match = _SHORT_CODE_RE.fullmatch(code.strip().lower())
    if match is None:
        raise TamperedToken()
    number = int(match["id"], 36)
    if not hmac.compare_digest(_short_mac(key, purpose, number), match["mac"]):
        raise TamperedToken()
    return number
