"""Everything held on one alum: export it (GDPR art. 20) and erase it (art. 17).

What belongs to an alum is found by walking the foreign keys of the metadata, so a table added
later is covered without touching this module. Starting from the ``alumnus`` row:

- a row that references the alumnus row directly is the alum's, unless it names another alum
  through a reference that owns it (NOT NULL or CASCADE) and this one only loosely (nullable,
  ``SET NULL``), like a referral that names the alum asked for an introduction: that row is
  the other alum's, never exported here, and erasure sets the loose reference to NULL;
- a row that references one of the alum's rows through a foreign key that is NOT NULL, or is
  declared ``ondelete="CASCADE"``, is the alum's too, and the walk goes on from it;
- a row that references one of the alum's rows through any other foreign key (nullable, or
  ``ondelete="SET NULL"``) can outlive it, like an event that an ambassador proposed: it is
  exported, erasure sets that reference to NULL and keeps the row, and the walk stops there;
- a row reached that way which names another alum directly (another alum's RSVP) is that alum's:
  it is never exported, and erasure refuses to delete it (``ErasureConflict``).

Erasure keeps the ``alumnus`` row as a tombstone so that ids elsewhere stay valid. Its class year
is kept, because class sizes and coverage reports count it; every other personal column is
blanked (see ``erase_alumnus``). Every address the alum ever had goes on the suppression list, so
no campaign reaches it, and the external id and those addresses go on the erasure list
(``erasure_list``), so an import of an old file refuses them; both keep keyed hashes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlmodel import SQLModel

from alumni.models import Alumnus, AlumnusStatus, ContactPoint, table_of, utcnow
from alumni.people.erasure_list import ERASED_REASON, EXTERNAL_ID, record_erased
from alumni.people.keyed_hash import normalise
from alumni.people.suppression import suppress

EXPORT_FORMAT = "alumni-outreach.export/1"
# Kept on the tombstone: not personal on its own, and the class statistics count it.
KEPT_COLUMNS = frozenset({"class_year", "created_at"})
_CHUNK = 500

Key = tuple[Any, ...]


class ErasureConflict(RuntimeError):
    """Erasing would delete rows that belong to other alumni; nothing was changed."""


@dataclass(frozen=True)
class ErasureReport:
    """What ``erase_alumnus`` did.

    Attributes:
        alumnus_id: the tombstoned alum.
        deleted: rows deleted, per table (every table that can hold the alum's rows, 0 included).
        detached: rows kept whose reference to the alum's rows was set to NULL, per table.
        suppressed: distinct addresses of the alum now on the suppression list.
        already_erased: the alum had been erased before (erasing again is harmless).
    """

    alumnus_id: int
    deleted: dict[str, int]
    detached: dict[str, int]
    suppressed: int
    already_erased: bool


@dataclass
class _Holdings:
    alumnus: RowMapping
    # The alum's rows (alumnus first), by table name then row key, tables in walk order.
    owned: dict[str, dict[Key, RowMapping]] = field(default_factory=dict)
    # Rows that only reference the alum's rows loosely, by table name then row key.
    linked: dict[str, dict[Key, RowMapping]] = field(default_factory=dict)
    # Loose references: the constraint and the keys of the rows that hold it.
    loose: list[tuple[sa.ForeignKeyConstraint, set[Key]]] = field(default_factory=list)
    # Other alumni's rows that an owning reference reaches: erasure refuses.
    conflicts: list[tuple[sa.ForeignKeyConstraint, Key]] = field(default_factory=list)


def find_alumnus_id(connection: Connection, ref: str) -> int:
    """Return the database id of the alum that ``ref`` names.

    Args:
        connection: any connection to the database.
        ref: an external id (as imported) or a numeric database id; an external id wins when
            both could match.

    Raises:
        LookupError: no alum has that external id or id.
    """
    table = table_of(Alumnus)
    found = connection.execute(sa.select(table.c.id).where(table.c.external_id == ref)).scalar()
    if found is None and ref.strip().isdigit():
        found = connection.execute(
            sa.select(table.c.id).where(table.c.id == int(ref.strip()))
        ).scalar()
    if found is None:
        raise LookupError(f"no alumnus with external id or id '{ref}'")
    return int(found)


def export_alumnus(
    connection: Connection, *, alumnus_id: int, metadata: sa.MetaData = SQLModel.metadata
) -> dict[str, Any]:
    """Return everything held on one alum, ready for ``json.dumps``.

    Args:
        connection: any connection to the database.
        alumnus_id: the alum's database id (``find_alumnus_id`` turns an external id into one).
        metadata: the tables to walk; the default is the whole schema.

    Returns:
        ``{"format", "exported_at", "alumnus_id", "tables"}``, where ``tables`` maps every table
        that can hold the alum's data (``alumnus`` first) to a list of rows, each a dict of column
        to value; datetimes are ISO 8601 strings in UTC.

    Raises:
        LookupError: no alum has that id.
    """
    holdings = _walk(connection, metadata, alumnus_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in _reachable(metadata):
        rows = {**holdings.linked.get(name, {}), **holdings.owned.get(name, {})}
        tables[name] = [
            {column: _jsonable(value) for column, value in rows[key].items()}
            for key in sorted(rows, key=_sort_key)
        ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "alumnus_id": alumnus_id,
        "tables": tables,
    }


def erase_alumnus(
    connection: Connection,
    *,
    alumnus_id: int,
    now: datetime,
    metadata: sa.MetaData = SQLModel.metadata,
    signing_key: bytes | None = None,
) -> ErasureReport:
    """Erase one alum's personal data and keep a tombstone; run inside ``write_transaction``.

    Every address the alum has or had is suppressed (reason ``erased``, scope ``all``); the
    external id and those addresses go on the erasure list; the alum's rows in other tables are
    deleted (children first), loose references to them are set to NULL, and the ``alumnus`` row
    becomes a tombstone: status ``erased``, external id ``erased-<id>``, every nullable column
    NULL, every other string column empty, ``updated_at = now``; ``class_year`` and
    ``created_at`` are kept. Erasing twice is harmless.

    Args:
        connection: a connection inside ``write_transaction`` (all of it commits or nothing).
        alumnus_id: the alum's database id (``find_alumnus_id`` turns an external id into one).
        now: the time of erasure, timezone-aware.
        metadata: the tables to walk; the default is the whole schema.
        signing_key: keys the hashes of both lists; None reads ``Settings.signing_key()``.

    Raises:
        LookupError: no alum has that id.
        ErasureConflict: the walk reached rows of other alumni through a NOT NULL reference.
        WrongHashKey: the lists were made with another signing key; nothing was changed.
    """
    holdings = _walk(connection, metadata, alumnus_id)
    if holdings.conflicts:
        raise ErasureConflict(_conflict_message(alumnus_id, holdings.conflicts))
    alumni = _alumnus_table(metadata)
    already_erased = holdings.alumnus["status"] == AlumnusStatus.erased
    addresses = _addresses(holdings.owned.get(table_of(ContactPoint).name))
    for kind, value in addresses:
        suppress(
            connection,
            kind=kind,
            value=value,
            reason=ERASED_REASON,
            scope="all",
            signing_key=signing_key,
        )
    # A tombstone's own external id (erased-<id>) is nobody's: it is not listed.
    external = [] if already_erased else [(EXTERNAL_ID, str(holdings.alumnus["external_id"]))]
    record_erased(connection, [*external, *addresses], now=now, signing_key=signing_key)

    detached: dict[str, int] = {}
    for constraint, keys in holdings.loose:
        # Rows that are also the alum's are deleted below: no need to detach them first.
        owned = holdings.owned.get(constraint.table.name, {})
        keep = [key for key in keys if key not in owned]
        values = dict.fromkeys((column.name for column in constraint.columns), None)
        for chunk in _chunks(keep):
            result = connection.execute(
                sa.update(constraint.table).where(_key_in(constraint.table, chunk)).values(values)
            )
            name = constraint.table.name
            detached[name] = detached.get(name, 0) + result.rowcount

    deleted = dict.fromkeys((name for name in _reachable(metadata) if name != alumni.name), 0)
    for table in _children_first(metadata, holdings):
        for chunk in _chunks(list(holdings.owned[table.name])):
            result = connection.execute(sa.delete(table).where(_key_in(table, chunk)))
            deleted[table.name] += result.rowcount

    connection.execute(
        sa.update(alumni)
        .where(alumni.c.id == alumnus_id)
        .values(_tombstone(alumni, alumnus_id, now))
    )
    return ErasureReport(
        alumnus_id=alumnus_id,
        deleted=deleted,
        detached=detached,
        suppressed=len(addresses),
        already_erased=already_erased,
    )


def _alumnus_table(metadata: sa.MetaData) -> sa.Table:
    name = table_of(Alumnus).name
    if name not in metadata.tables:
        raise ValueError(f"the metadata has no {name!r} table: pass the schema's metadata")
    return metadata.tables[name]


def _referrers(metadata: sa.MetaData) -> dict[str, list[sa.ForeignKeyConstraint]]:
    """Return, per table name, the foreign keys of other tables that point at it."""
    alumni = _alumnus_table(metadata)
    found: dict[str, list[sa.ForeignKeyConstraint]] = {}
    for name in sorted(metadata.tables):
        table = metadata.tables[name]
        # Other alumni rows pointing at this one keep pointing at its tombstone.
        if table is alumni:
            continue
        for constraint in table.foreign_key_constraints:
            found.setdefault(constraint.referred_table.name, []).append(constraint)
    return found


def _owning(constraint: sa.ForeignKeyConstraint, *, direct: bool) -> bool:
    """Whether rows that hold this reference belong to the rows it points at."""
    if direct:
        return True
    ondelete = (constraint.ondelete or "").upper()
    if ondelete == "CASCADE":
        return True
    if ondelete in ("SET NULL", "SET DEFAULT"):
        return False
    return not any(column.nullable for column in constraint.columns)


def _reachable(metadata: sa.MetaData) -> list[str]:
    """Return the names of the tables that can hold an alum's rows, ``alumnus`` first."""
    alumni = _alumnus_table(metadata)
    referrers = _referrers(metadata)
    order = [alumni.name]
    walked = [alumni.name]
    for parent in walked:
        for constraint in referrers.get(parent, []):
            child = constraint.table.name
            if child not in order:
                order.append(child)
            if child not in walked and _owning(constraint, direct=parent == alumni.name):
                walked.append(child)
    return order


def _walk(connection: Connection, metadata: sa.MetaData, alumnus_id: int) -> _Holdings:
    alumni = _alumnus_table(metadata)
    alumnus = (
        connection.execute(sa.select(alumni).where(alumni.c.id == alumnus_id)).mappings().first()
    )
    if alumnus is None:
        raise LookupError(
            f"no alumnus with id {alumnus_id}: check the id, or look it up by external id"
        )
    referrers = _referrers(metadata)
    holdings = _Holdings(alumnus=alumnus, owned={alumni.name: {_key(alumni, alumnus): alumnus}})
    pending: list[tuple[sa.Table, list[RowMapping]]] = [(alumni, [alumnus])]
    while pending:
        parent, parent_rows = pending.pop(0)
        direct = parent is alumni
        for constraint in referrers.get(parent.name, []):
            child = constraint.table
            owning = _owning(constraint, direct=direct)
            owned = holdings.owned.setdefault(child.name, {}) if owning else {}
            linked = holdings.linked.setdefault(child.name, {}) if not owning else {}
            loose_keys: set[Key] = set()
            new_rows: list[RowMapping] = []
            # A loose direct reference: the row may be another alum's that only names this one.
            mention = direct and not _owning(constraint, direct=False)
            for row in _rows_referencing(connection, constraint, parent_rows):
                key = _key(child, row)
                if key in holdings.owned.get(child.name, {}):
                    continue
                if mention and _owned_by_other_alumnus(child, row, alumni, alumnus):
                    loose_keys.add(key)
                    continue
                foreign = not direct and _names_other_alumnus(child, row, alumni, alumnus)
                if not owning:
                    loose_keys.add(key)
                    if not foreign:
                        linked[key] = row
                elif foreign:
                    holdings.conflicts.append((constraint, key))
                else:
                    owned[key] = row
                    holdings.linked.get(child.name, {}).pop(key, None)
                    new_rows.append(row)
            if loose_keys:
                holdings.loose.append((constraint, loose_keys))
            if new_rows:
                pending.append((child, new_rows))
    for rows_by_table in (holdings.owned, holdings.linked):
        for name in [name for name, rows in rows_by_table.items() if not rows]:
            del rows_by_table[name]
    return holdings


def _rows_referencing(
    connection: Connection, constraint: sa.ForeignKeyConstraint, parent_rows: list[RowMapping]
) -> Iterator[RowMapping]:
    """Yield the rows of the constraint's table that point at any of ``parent_rows``."""
    pairs = [(element.parent, element.column) for element in constraint.elements]
    values = {tuple(row[remote.name] for _, remote in pairs) for row in parent_rows}
    # NULL never matches a reference.
    wanted = [value for value in values if None not in value]
    local = [column for column, _ in pairs]
    for chunk in _chunks(wanted):
        if len(local) == 1:
            condition = local[0].in_([value[0] for value in chunk])
        else:
            condition = sa.tuple_(*local).in_(chunk)
        yield from connection.execute(sa.select(constraint.table).where(condition)).mappings()


def _names_other_alumnus(
    table: sa.Table, row: RowMapping, alumni: sa.Table, alumnus: RowMapping
) -> bool:
    for constraint in table.foreign_key_constraints:
        if constraint.referred_table is not alumni:
            continue
        held = tuple(row[element.parent.name] for element in constraint.elements)
        ours = tuple(alumnus[element.column.name] for element in constraint.elements)
        if None not in held and held != ours:
            return True
    return False


def _owned_by_other_alumnus(
    table: sa.Table, row: RowMapping, alumni: sa.Table, alumnus: RowMapping
) -> bool:
    """Whether ``row`` belongs to another alum through an owning reference to them."""
    for constraint in table.foreign_key_constraints:
        if constraint.referred_table is not alumni or not _owning(constraint, direct=False):
            continue
        held = tuple(row[element.parent.name] for element in constraint.elements)
        ours = tuple(alumnus[element.column.name] for element in constraint.elements)
        if None not in held and held != ours:
            return True
    return False


def _key(table: sa.Table, row: RowMapping) -> Key:
    columns = list(table.primary_key.columns) or list(table.columns)
    return tuple(row[column.name] for column in columns)


def _key_in(table: sa.Table, keys: list[Key]) -> sa.ColumnElement[bool]:
    columns = list(table.primary_key.columns) or list(table.columns)
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return sa.tuple_(*columns).in_(keys)


def _chunks(items: list[Key]) -> Iterator[list[Key]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _children_first(metadata: sa.MetaData, holdings: _Holdings) -> list[sa.Table]:
    """Return the tables with rows to delete (not ``alumnus``), referencing tables first."""
    alumni = _alumnus_table(metadata)
    return [
        table
        for table in reversed(metadata.sorted_tables)
        if table.name in holdings.owned and table is not alumni
    ]


def _addresses(rows: Mapping[Key, RowMapping] | None) -> list[tuple[str, str]]:
    """The distinct (kind, normalised value) of the alum's contact points, sorted."""
    return sorted(
        {(row["kind"], normalise(row["kind"], row["value"])) for row in (rows or {}).values()}
    )


def _tombstone(alumni: sa.Table, alumnus_id: int, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "external_id": f"erased-{alumnus_id}",
        "status": AlumnusStatus.erased.value,
        "updated_at": now,
    }
    for column in alumni.columns:
        if column.primary_key or column.name in values or column.name in KEPT_COLUMNS:
            continue
        if column.nullable:
            values[column.name] = None
        elif _is_string(column.type):
            values[column.name] = ""
    return values


def _is_string(column_type: sa.types.TypeEngine[Any]) -> bool:
    if isinstance(column_type, sa.types.TypeDecorator):
        return isinstance(column_type.impl_instance, sa.String)
    return isinstance(column_type, sa.String)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _sort_key(key: Key) -> tuple[tuple[bool, Any], ...]:
    # NULLs last, so that keys with a missing part still compare.
    return tuple((part is None, 0 if part is None else part) for part in key)


def _conflict_message(
    alumnus_id: int, conflicts: Iterable[tuple[sa.ForeignKeyConstraint, Key]]
) -> str:
    by_reference: dict[str, list[Key]] = {}
    for constraint, key in conflicts:
        columns = ", ".join(f"{constraint.table.name}.{c.name}" for c in constraint.columns)
        by_reference.setdefault(columns, []).append(key)
    details = "; ".join(
        f"{columns} (rows {', '.join(map(str, keys))})" for columns, keys in by_reference.items()
    )
    return (
        f"erasing alumnus {alumnus_id} would delete rows that belong to other alumni, reached "
        f"through {details}; make that foreign key nullable or ondelete='SET NULL' so those rows "
        "can outlive the alum's, then erase again. Nothing was changed."
    )
