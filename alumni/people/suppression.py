"""The suppression list: addresses that must not be contacted, held only as keyed hashes.

Each row holds the HMAC of a normalised address under the identifier-hash key (``keyed_hash``),
which is derived from the signing key kept outside the database, so a copy of the database
alone cannot tell whether an address is on the list.

Databases from before keyed hashes hold SHA-256 hashes salted with a value kept in the database
itself (``instancevalue`` key ``suppression_salt``), which a copy of the database can test
addresses against. Those rows (``keyed`` false) cannot be re-keyed without their address, so
they keep being honoured: every lookup also tries the old hash while any remain. Each is re-keyed
when its address is at hand with the database open for writing: ``suppress`` of that address
again, and ``rekey_known_addresses`` (run by ``alumni init``) for every address still held in a
contact point. When the last one is gone, the salt is deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ContactPoint, InstanceValue, Suppression, table_of, utcnow
from alumni.people.keyed_hash import HashKey, hash_key, normalise

SALT_KEY = "suppression_salt"
SCOPES = ("all", "news", "events")
_CHUNK = 500
_S = table_of(Suppression)
_IV = table_of(InstanceValue)
_CP = table_of(ContactPoint)

Address = tuple[str, str]  # (kind, value)


def legacy_hash(salt: str, kind: str, value: str) -> str:
    """Return the salted SHA-256 that rows from before keyed hashes hold (``keyed`` false)."""
    data = f"{salt}\x00{kind}\x00{normalise(kind, value)}".encode()
    return hashlib.sha256(data).hexdigest()


UNSUBSCRIBE_SCOPES = ("news", "events")


def unsubscribe(
    connection: Connection, *, kind: str, value: str, signing_key: bytes | None = None
) -> bool:
    """Stop news and events to one address (an unsubscribe link, its one-click POST, or mail to
    the ``List-Unsubscribe`` mailto); service messages still go. Return False if both scopes
    were already suppressed.

    Args:
        connection: a connection inside a write transaction.
        kind, value, signing_key: as for :func:`suppress`.
    """
    added = [
        suppress(
            connection,
            kind=kind,
            value=value,
            reason="unsubscribed",
            scope=scope,
            signing_key=signing_key,
        )
        for scope in UNSUBSCRIBE_SCOPES
    ]
    return any(added)


def suppress(
    connection: Connection,
    *,
    kind: str,
    value: str,
    reason: str,
    scope: str = "all",
    signing_key: bytes | None = None,
) -> bool:
    """Add one address to the list; return False if it was already there for that scope.

    Args:
        connection: a connection inside a write transaction.
        kind: a ``ContactKind`` value.
        value: the address, in any case.
        reason: erased / unsubscribed / hard_bounce / complaint.
        scope: all / news / events.
        signing_key: the signing key; None reads ``Settings.signing_key()``.

    Raises:
        ValueError: an unknown scope.
        WrongHashKey: the list was made with another signing key.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown suppression scope {scope!r}: use one of {', '.join(SCOPES)}")
    key = hash_key(connection, signing_key, remember=True)
    digest = key.digest(kind, value)
    exists = connection.execute(
        sa.select(_S.c.id).where(_S.c.value_hash == digest, _S.c.scope == scope, _S.c.keyed)
    ).first()
    if exists is not None:
        return False
    salt = _legacy_salt(connection)
    if salt is not None:
        old = connection.execute(
            sa.select(_S.c.id).where(
                _S.c.value_hash == legacy_hash(salt, kind, value),
                _S.c.scope == scope,
                ~_S.c.keyed,
            )
        ).first()
        if old is not None:
            _rekey(connection, old.id, digest)
            _drop_salt_if_unused(connection)
            return False
    connection.execute(
        sa.insert(_S).values(
            kind=kind,
            value_hash=digest,
            keyed=True,
            scope=scope,
            reason=reason,
            created_at=utcnow(),
        )
    )
    return True


def anything_suppressed(connection: Connection) -> bool:
    """Whether the list holds any address (a cheap test before hashing a whole file's rows)."""
    return connection.execute(sa.select(_S.c.id).limit(1)).first() is not None


def suppressed_scopes(
    connection: Connection, addresses: Iterable[Address], *, signing_key: bytes | None = None
) -> dict[Address, set[str]]:
    """Return, for each (kind, value) that is suppressed, the scopes it is suppressed for.

    Raises:
        WrongHashKey: the list was made with another signing key.
    """
    return {
        address: {scope for scope, _ in entries}
        for address, entries in _entries(connection, addresses, signing_key).items()
    }


def suppressed_for(
    connection: Connection,
    addresses: Iterable[Address],
    *,
    reason: str,
    signing_key: bytes | None = None,
) -> set[Address]:
    """Return the (kind, value) pairs that are on the list for ``reason`` (any scope).

    Raises:
        WrongHashKey: the list was made with another signing key.
    """
    return {
        address
        for address, entries in _entries(connection, addresses, signing_key).items()
        if any(found == reason for _, found in entries)
    }


def rekey_known_addresses(connection: Connection, *, signing_key: bytes | None = None) -> int:
    """Re-key the old salted rows whose address a contact point still holds; return how many.

    Run inside a write transaction. Deletes the salt when no old row is left.

    Raises:
        WrongHashKey: the list was made with another signing key.
    """
    salt = _legacy_salt(connection)
    if salt is None:
        return 0
    old: dict[str, list[int]] = {}
    for row in connection.execute(sa.select(_S.c.id, _S.c.value_hash).where(~_S.c.keyed)):
        old.setdefault(row.value_hash, []).append(row.id)
    key = hash_key(connection, signing_key, remember=True)
    # Matches are collected first: no writes while the contact points are being read.
    matches: list[tuple[int, str]] = []
    for kind, value in connection.execute(sa.select(_CP.c.kind, _CP.c.value).distinct()):
        for row_id in old.pop(legacy_hash(salt, kind, value), []):
            matches.append((row_id, key.digest(kind, value)))
    for row_id, digest in matches:
        _rekey(connection, row_id, digest)
    _drop_salt_if_unused(connection)
    return len(matches)


def _entries(
    connection: Connection, addresses: Iterable[Address], signing_key: bytes | None
) -> dict[Address, set[tuple[str, str]]]:
    """(scope, reason) of every row that matches each address, keyed or old-style."""
    key: HashKey = hash_key(connection, signing_key)
    wanted: dict[tuple[bool, str], Address] = {}
    salt = _legacy_salt(connection)
    for kind, value in set(addresses):
        wanted[(True, key.digest(kind, value))] = (kind, value)
        if salt is not None:
            wanted[(False, legacy_hash(salt, kind, value))] = (kind, value)
    hashes = sorted({digest for _, digest in wanted})
    columns = sa.select(_S.c.value_hash, _S.c.keyed, _S.c.scope, _S.c.reason)
    if len(hashes) > _CHUNK and connection.execute(
        sa.select(sa.func.count()).select_from(_S)
    ).scalar_one() <= len(hashes):
        # a list shorter than the addresses asked about (a plan of a whole class) is read
        # whole, in one query instead of one a chunk
        queries = [columns]
    else:
        queries = [
            columns.where(_S.c.value_hash.in_(hashes[start : start + _CHUNK]))
            for start in range(0, len(hashes), _CHUNK)
        ]
    found: dict[Address, set[tuple[str, str]]] = {}
    for query in queries:
        for row in connection.execute(query):
            address = wanted.get((bool(row.keyed), row.value_hash))
            if address is not None:
                found.setdefault(address, set()).add((row.scope, row.reason))
    return found


def _legacy_salt(connection: Connection) -> str | None:
    found = connection.execute(sa.select(_IV.c.value).where(_IV.c.key == SALT_KEY)).scalar()
    return None if found is None else str(found)


def _rekey(connection: Connection, row_id: int, digest: str) -> None:
    """Give an old row its keyed hash, or drop it when a keyed row already says the same."""
    row = connection.execute(sa.select(_S.c.scope).where(_S.c.id == row_id)).one()
    twin = connection.execute(
        sa.select(_S.c.id).where(_S.c.value_hash == digest, _S.c.scope == row.scope)
    ).first()
    if twin is not None:
        connection.execute(sa.delete(_S).where(_S.c.id == row_id))
    else:
        connection.execute(
            sa.update(_S).where(_S.c.id == row_id).values(value_hash=digest, keyed=True)
        )


def _drop_salt_if_unused(connection: Connection) -> None:
    if connection.execute(sa.select(_S.c.id).where(~_S.c.keyed).limit(1)).first() is None:
        connection.execute(sa.delete(_IV).where(_IV.c.key == SALT_KEY))
