"""Shared fixtures: a fresh database per test on SQLite and on a real PostgreSQL server.

PostgreSQL: set ``ALUMNI_TEST_POSTGRES_URL`` to a server's URL (``.ci/run`` does), or have the
Debian ``postgresql`` binaries installed and the session starts a throwaway server itself.
Without either, the PostgreSQL half of the suite fails rather than silently skipping, unless
``ALUMNI_TEST_SKIP_POSTGRES=1`` says so on purpose.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile

# Before prefect can be imported anywhere: offline, quiet, and results kept out of ~/.prefect.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
_prefect_home = tempfile.mkdtemp(prefix="alumni-prefect-")
os.environ.setdefault("PREFECT_HOME", _prefect_home)
os.environ.setdefault("PREFECT_RESULTS_LOCAL_STORAGE_PATH", os.path.join(_prefect_home, "storage"))
# A terminal's size is each test's to give (invoke(env={"COLUMNS": ...})): pytest-xdist's
# workers start with COLUMNS=80 and LINES=24, which Rich would fix for every command.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

import uuid
from collections.abc import Iterator
from pathlib import Path

import prefect.main  # noqa: F401  (sets up Prefect's logging: see below)
import pytest
import sqlalchemy as sa

import alumni.cli.output  # noqa: F401  (makes its consoles: see below)
from alumni.db import engine_for, upgrade
from alumni.settings import get_settings
from tests.pg_server import PostgresServer, start_postgres

# Prefect's console log handler keeps the sys.stderr of the moment prefect.main is first
# imported (above): imported first inside a CliRunner.invoke, it would later write to that
# invoke's closed capture, and "--- Logging error ---" would land in another command's output.
# Likewise Rich fixes a console's width from COLUMNS when the console is made: made inside an
# invoke(env={"COLUMNS": ...}), every later command would print at that width.
pytest_plugins = ["tests.smtp_server", "tests.social_servers", "tests.mail_servers"]


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect test server for the whole session: flows, artifacts, logs and events.

    One only: Prefect's event and log workers stay bound to the server of the process's first
    flow run, so a second server would not see what later runs send.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    url = os.environ.get("ALUMNI_TEST_POSTGRES_URL")
    if url:
        yield PostgresServer(url=url, process_dir=None)
        return
    if os.environ.get("ALUMNI_TEST_SKIP_POSTGRES") == "1":
        yield None
        return
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test's database is a copy."""
    path = tmp_path_factory.mktemp("migrated") / "alumni.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: PostgresServer | None) -> str | None:
    """A PostgreSQL database migrated to head once per session: each test's database is made
    from it as a template (``CREATE DATABASE ... TEMPLATE``), a copy of its files."""
    if postgres_server is None:
        return None
    url = _new_postgres_database(postgres_server)
    upgrade(url)  # its engine is disposed: a template must have no connection open
    return sa.make_url(url).database


def _new_postgres_database(server: PostgresServer, template: str | None = None) -> str:
    name = f"alumni_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        made_from = f' TEMPLATE "{template}"' if template else ""
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"{made_from}')
    admin.dispose()
    return sa.make_url(server.url).set(database=name).render_as_string(hide_password=False)


def _copy_of(template: Path, path: Path) -> str:
    """A new SQLite database at ``path`` holding what ``template`` holds (the backup API: a
    consistent copy whatever the journal mode)."""
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty database on each backend; ALUMNI_DATABASE_URL points at it."""
    if request.param == "sqlite":
        url = _copy_of(request.getfixturevalue("migrated_sqlite"), tmp_path / "alumni.db")
    else:
        server = request.getfixturevalue("postgres_server")
        if server is None:
            pytest.skip("ALUMNI_TEST_SKIP_POSTGRES=1")
        url = _new_postgres_database(server, request.getfixturevalue("migrated_postgres"))
    yield from _use_database(url, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_url(
    migrated_sqlite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty SQLite database, for tests whose subject is not the backend."""
    yield from _use_database(
        _copy_of(migrated_sqlite, tmp_path / "alumni.db"), tmp_path, monkeypatch
    )


def _use_database(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point ALUMNI_DATABASE_URL at ``url`` (already at the newest revision: `alumni init`
    and `require_current` find nothing to do) with a signing key and outbox of the test's own."""
    monkeypatch.setenv("ALUMNI_DATABASE_URL", url)
    monkeypatch.setenv("ALUMNI_SECRET_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("ALUMNI_OUTBOX_DIR", str(tmp_path / "outbox"))
    get_settings.cache_clear()
    yield url
    engine_for(url).dispose()
    get_settings.cache_clear()
