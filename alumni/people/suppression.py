"""The suppression list: addresses that must not be contacted, held only as salted hashes.

The salt is made once per database (table ``instancevalue``) so that a rotated
``ALUMNI_SECRET_KEY`` never silently empties the list, and a copy of the list alone does not
reveal who asked to be left alone.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ContactKind, InstanceValue, Suppression, table_of, utcnow

SALT_KEY = "suppression_salt"
SCOPES = ("all", "news", "events")


def normalise(kind: str, value: str) -> str:
    """Return the form of an address that is hashed: trimmed, lower-case, no leading '@'."""
    value = value.strip()
    if kind in (ContactKind.email, ContactKind.mastodon, ContactKind.bluesky):
        value = value.lower().lstrip("@")
    return value


def suppression_salt(connection: Connection) -> str:
    """Return this database's salt, creating it on first use."""
    table = table_of(InstanceValue)
    found = connection.execute(sa.select(table.c.value).where(table.c.key == SALT_KEY)).scalar()
    if found is not None:
        return str(found)
    salt = secrets.token_hex(32)
    connection.execute(sa.insert(table).values(key=SALT_KEY, value=salt))
    return salt


def value_hash(salt: str, kind: str, value: str) -> str:
    """Return the salted SHA-256 of one address, as stored in ``suppression.value_hash``."""
    data = f"{salt}\x00{kind}\x00{normalise(kind, value)}".encode()
    return hashlib.sha256(data).hexdigest()


def suppress(
    connection: Connection, *, kind: str, value: str, reason: str, scope: str = "all"
) -> bool:
    """Add one address to the list; return False if it was already there for that scope."""
    if scope not in SCOPES:
        raise ValueError(f"unknown suppression scope {scope!r}: use one of {', '.join(SCOPES)}")
    digest = value_hash(suppression_salt(connection), kind, value)
    table = table_of(Suppression)
    exists = connection.execute(
        sa.select(table.c.id).where(table.c.value_hash == digest, table.c.scope == scope)
    ).first()
    if exists is not None:
        return False
    connection.execute(
        sa.insert(table).values(
            kind=kind, value_hash=digest, scope=scope, reason=reason, created_at=utcnow()
        )
    )
    return True


def suppressed_scopes(
    connection: Connection, addresses: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], set[str]]:
    """Return, for each (kind, value) that is suppressed, the scopes it is suppressed for."""
    salt = suppression_salt(connection)
    by_hash = {value_hash(salt, kind, value): (kind, value) for kind, value in addresses}
    table = table_of(Suppression)
    found: dict[tuple[str, str], set[str]] = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), 500):
        rows = connection.execute(
            sa.select(table.c.value_hash, table.c.scope).where(
                table.c.value_hash.in_(hashes[start : start + 500])
            )
        )
        for digest, scope in rows:
            found.setdefault(by_hash[digest], set()).add(scope)
    return found
