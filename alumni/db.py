"""Engines, sessions and migrations for SQLite (the embedded default) and PostgreSQL.

SQLite connections run in WAL mode with foreign keys on and a busy timeout; ``write_transaction``
opens ``BEGIN IMMEDIATE`` there so that concurrent writers queue instead of failing with
"database is locked" half-way through. Schema changes only ever go through Alembic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from alumni.settings import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.info.get("begin", "BEGIN")
    connection.exec_driver_sql(mode)


def make_engine(url: str) -> Engine:
    """Return a new engine for ``url`` with this project's connection settings."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        sa.event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@cache
def engine_for(url: str) -> Engine:
    """Return the shared engine for ``url`` (one per process and URL)."""
    return make_engine(url)


def get_engine() -> Engine:
    """Return the engine for ``ALUMNI_DATABASE_URL``."""
    return engine_for(get_settings().database_url)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection inside a transaction that holds the write lock from its first statement.

    On SQLite this is ``BEGIN IMMEDIATE``; PostgreSQL needs no such thing (use row locks).
    The transaction commits when the block ends and rolls back if it raises.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.info["begin"] = "BEGIN IMMEDIATE"
        try:
            with connection.begin():
                yield connection
        finally:
            connection.info.pop("begin", None)


def lock_named(connection: Connection, name: str) -> None:
    """Serialise the writers of one named thing until the transaction ends: SQLite's
    ``BEGIN IMMEDIATE`` (``write_transaction``) already does; PostgreSQL takes a
    transaction-scoped advisory lock keyed by ``name``."""
    if connection.dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


@contextmanager
def bulk_load(connection: Connection, *, cache_mb: int = 256) -> Iterator[None]:
    """Give a long write on ``connection`` a larger SQLite page cache while it lasts.

    With SQLite's default 2 MB cache, the indexes of a million-alum import no longer fit and
    every insert reads its index pages again; the cache goes back to the default afterwards,
    since the connection returns to the pool. Nothing changes on PostgreSQL.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{cache_mb * 1024}")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA cache_size=-2000")


def bulk_insert(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one DBAPI executemany (SQLite) or one COPY (PostgreSQL), skipping
    SQLAlchemy's per-value processing (``insert_rows`` does the work).

    Core's typed executemany cost ~30 us a row here, more than the rest of an import; on
    PostgreSQL COPY is several times faster than psycopg's executemany. Values must be plain
    already; aware datetimes are turned into SQLite's text form there.
    """
    if not rows:
        return
    columns = list(rows[0])
    cells = []
    for name in columns:  # a comprehension per column costs less than a tuple per row
        column = [row[name] for row in rows]
        if _is_datetime(table.c[name]):
            column = [stored_time(connection, value) for value in column]
        cells.append(column)
    insert_rows(connection, table, columns, list(zip(*cells, strict=True)))


def insert_rows(
    connection: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``bulk_insert`` for rows held as tuples in the order of ``columns``.

    Datetimes must have gone through ``stored_time`` (a caller converts its one "now" once,
    where a conversion per row here cost as much as the insert).
    """
    if not rows:
        return
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and any(isinstance(value, datetime) for value in rows[0]):
        raise TypeError(f"insert into {table.name}: pass datetimes through stored_time first")
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, columns, rows)
        return
    marker = "?" if sqlite else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    connection.exec_driver_sql(sql, rows)


def stored_time(connection: Connection, value: datetime | None) -> datetime | str | None:
    """``value`` as ``insert_rows`` hands it to the database: SQLite's text form, or itself."""
    if value is None or connection.dialect.name != "sqlite":
        return value
    return _sqlite_datetime(value)


def one_of(
    connection: Connection, column: sa.ColumnElement[Any], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """``column IN values`` with the values as one parameter, for lists of thousands.

    Core's ``in_`` compiles a bound parameter per value, which cost more than the lookup itself
    in an import; SQLite reads the list from one JSON text, PostgreSQL from one array.
    """
    if connection.dialect.name == "sqlite":
        listed: sa.Select[tuple[Any]] = sa.select(sa.column("value")).select_from(
            sa.func.json_each(sa.literal(json.dumps(list(values))))
        )
        return column.in_(listed)
    return column == sa.any_(sa.literal(list(values), type_=postgresql.ARRAY(column.type)))


def _copy_rows(
    connection: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    # the same transaction as the caller's: COPY runs on its DBAPI connection
    driver: Any = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(tuple(map(_plain, row)))


def _plain(value: Any) -> Any:
    # psycopg dumps an Enum by its name; the columns hold its value
    return value.value if isinstance(value, Enum) else value


def insert_unless_present(
    connection: Connection, table: sa.Table, unique: list[str], **values: Any
) -> bool:
    """Insert one row unless a row with the same ``unique`` columns exists; True if inserted.

    ON CONFLICT rather than a check first: two writers of the same row may race here. Whether
    a row went in is read from RETURNING: psycopg gives no rowcount for the INSERT ... RETURNING
    SQLAlchemy makes on PostgreSQL (-1, which counted as inserted).
    """
    dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    result = connection.execute(
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c[name] for name in unique])
        .returning(*table.primary_key.columns)
    )
    return result.first() is not None


def _is_datetime(column: sa.Column[Any]) -> bool:
    return isinstance(getattr(column.type, "impl", column.type), sa.DateTime)


@lru_cache(maxsize=4096)
def _sqlite_datetime(value: datetime) -> str:
    # The text form SQLAlchemy's SQLite DATETIME writes and reads (naive UTC); most values in
    # a batch are the same "now", hence the cache.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Yield an ORM session that commits at the end of the block, or rolls back on error."""
    with Session(engine or get_engine()) as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """Return the Alembic configuration for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the database at ``url`` to ``revision``. Safe to run again."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """Return the revision the database at ``url`` is at (None: not initialised)."""
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Return the newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def require_current(url: str) -> None:
    """Raise if the database at ``url`` is not initialised at the newest revision."""
    current = current_revision(url)
    if current != head_revision():
        state = "not initialised" if current is None else f"at revision {current}"
        raise RuntimeError(
            f"the database {sa.make_url(url).render_as_string(hide_password=True)} is {state}; "
            "run `alumni init` to create or upgrade it"
        )
