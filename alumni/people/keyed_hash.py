"""The keyed hash that the suppression and erasure lists store instead of addresses and ids.

HMAC-SHA256 under a key of its own, derived from the signing key (``Settings.signing_key()``:
``ALUMNI_SECRET_KEY`` or its generated key file), which is kept outside the database. A copy of
the database alone therefore cannot be used to test whether an address is on a list.

The database keeps a check value of the key (an HMAC of a fixed label, in ``instancevalue``).
A different key is refused with ``WrongHashKey`` instead of silently matching nothing, which
would empty both lists without a word (a changed ``ALUMNI_SECRET_KEY``, a lost key file).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from alumni.models import ContactKind, InstanceValue, table_of
from alumni.settings import get_settings

# Changing either label re-keys every hash: existing lists would no longer match.
_PURPOSE = b"alumni-outreach/identifier-hash/v1"
_CHECK_LABEL = b"key check"
CHECK_KEY = "identifier_hash_check"
_IV = table_of(InstanceValue)


class WrongHashKey(RuntimeError):
    """The suppression and erasure lists were made with another secret key; nothing was checked."""


def normalise(kind: str, value: str) -> str:
    """Return the form of an identifier that is hashed: trimmed; addresses lower-case, no '@'."""
    value = value.strip()
    if kind in (ContactKind.email, ContactKind.mastodon, ContactKind.bluesky):
        value = value.lower().lstrip("@")
    return value


@dataclass(frozen=True)
class HashKey:
    """The key of the identifier hashes; ``digest`` gives what the lists store."""

    secret: bytes = field(repr=False)

    @classmethod
    def derive(cls, signing_key: bytes) -> HashKey:
        """Return the key for identifier hashes that belongs to ``signing_key``."""
        return cls(hmac.digest(signing_key, _PURPOSE, "sha256"))

    def digest(self, kind: str, value: str) -> str:
        """Return the hex HMAC of one identifier (``kind`` as in ``ContactKind``, or
        ``external_id``), normalised first."""
        data = f"{kind}\x00{normalise(kind, value)}".encode()
        return hmac.digest(self.secret, data, "sha256").hex()

    def check_value(self) -> str:
        """Return the value kept in the database to recognise this key (it reveals nothing)."""
        return hmac.digest(self.secret, _CHECK_LABEL, "sha256").hex()


def hash_key(
    connection: Connection, signing_key: bytes | None = None, *, remember: bool = False
) -> HashKey:
    """Return the identifier-hash key, checked against the one this database was used with.

    Args:
        connection: any connection to the database.
        signing_key: the signing key; None reads ``Settings.signing_key()``.
        remember: on a write path, keep this key's check value if the database has none yet.

    Raises:
        WrongHashKey: the database's lists were made with another key.
    """
    key = HashKey.derive(get_settings().signing_key() if signing_key is None else signing_key)
    held = connection.execute(sa.select(_IV.c.value).where(_IV.c.key == CHECK_KEY)).scalar()
    if held is None:
        if remember:
            _remember(connection, key)
        return key
    if not hmac.compare_digest(str(held), key.check_value()):
        raise WrongHashKey(
            "this database's suppression and erasure lists were made with another secret key: "
            "set ALUMNI_SECRET_KEY (or ALUMNI_SECRET_KEY_FILE) back to the key this database "
            "was used with. Until then nothing is checked against the lists, so nothing that "
            "needs them is sent, imported or stored."
        )
    return key


def _remember(connection: Connection, key: HashKey) -> None:
    try:
        # A savepoint, so that a writer that got there first does not spoil this transaction.
        with connection.begin_nested():
            connection.execute(sa.insert(_IV).values(key=CHECK_KEY, value=key.check_value()))
    except IntegrityError:
        held = connection.execute(sa.select(_IV.c.value).where(_IV.c.key == CHECK_KEY)).scalar()
        if not hmac.compare_digest(str(held), key.check_value()):
            raise WrongHashKey(
                "another process keyed this database's lists with a different secret key at the "
                "same moment: give every process the same ALUMNI_SECRET_KEY"
            ) from None
