"""The erasure list: who was erased, kept only as keyed hashes, so they are never brought back.

``erase_alumnus`` records the external id and every address the alum had (``ErasedIdentifier``:
the keyed hash of ``keyed_hash``, nothing readable). An import refuses a row that carries one of
them, and social engagement collection stores nothing by an erased alum's handle. Erasures made
before this list existed left only their addresses, on the suppression list with reason
``erased``: those are recognised too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ErasedIdentifier, Suppression, table_of
from alumni.people.keyed_hash import hash_key
from alumni.people.suppression import suppressed_for

ERASED_REASON = "erased"  # the suppression reason of an erased alum's addresses
EXTERNAL_ID = "external_id"  # the kind of an erased external id; addresses use ContactKind
_CHUNK = 500
_E = table_of(ErasedIdentifier)
_S = table_of(Suppression)

Identifier = tuple[str, str]  # (kind, value)


def record_erased(
    connection: Connection,
    identifiers: Iterable[Identifier],
    *,
    now: datetime,
    signing_key: bytes | None = None,
) -> int:
    """Put identifiers of an erased alum on the list; return how many were new.

    Args:
        connection: a connection inside the erasure's write transaction.
        identifiers: (kind, value) pairs: ``external_id`` or a ``ContactKind``, and the value.
        now: the time of erasure.
        signing_key: the signing key; None reads ``Settings.signing_key()``.

    Raises:
        WrongHashKey: the list was made with another signing key.
    """
    key = hash_key(connection, signing_key, remember=True)
    wanted = {key.digest(kind, value): kind for kind, value in identifiers}
    held = _held(connection, wanted)
    rows = [
        {"kind": kind, "value_hash": digest, "erased_at": now}
        for digest, kind in sorted(wanted.items())
        if digest not in held
    ]
    if rows:
        connection.execute(sa.insert(_E), rows)
    return len(rows)


def anything_erased(connection: Connection) -> bool:
    """Whether anyone was ever erased (a cheap test before hashing a whole file's rows)."""
    listed = connection.execute(sa.select(_E.c.id).limit(1)).first()
    if listed is not None:
        return True
    old = connection.execute(sa.select(_S.c.id).where(_S.c.reason == ERASED_REASON).limit(1))
    return old.first() is not None


def erased_among(
    connection: Connection, identifiers: Iterable[Identifier], *, signing_key: bytes | None = None
) -> set[Identifier]:
    """Return the identifiers that belong to an erased alum.

    Args:
        connection: any connection to the database.
        identifiers: (kind, value) pairs: ``external_id`` or a ``ContactKind``, and the value.
        signing_key: the signing key; None reads ``Settings.signing_key()``.

    Raises:
        WrongHashKey: the list was made with another signing key.
    """
    wanted = set(identifiers)
    if not wanted:
        return set()
    key = hash_key(connection, signing_key)
    by_hash = {key.digest(kind, value): (kind, value) for kind, value in wanted}
    found = {by_hash[digest] for digest in _held(connection, by_hash)}
    addresses = [i for i in wanted - found if i[0] != EXTERNAL_ID]
    if addresses:
        found |= suppressed_for(
            connection, addresses, reason=ERASED_REASON, signing_key=signing_key
        )
    return found


def _held(connection: Connection, digests: Iterable[str]) -> set[str]:
    hashes = sorted(digests)
    held: set[str] = set()
    for start in range(0, len(hashes), _CHUNK):
        held.update(
            connection.execute(
                sa.select(_E.c.value_hash).where(
                    _E.c.value_hash.in_(hashes[start : start + _CHUNK])
                )
            ).scalars()
        )
    return held
