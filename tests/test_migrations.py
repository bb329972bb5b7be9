"""Migrations and models agree, and upgrading a database that holds data loses none."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from alumni.db import alembic_config, current_revision, engine_for, head_revision, upgrade


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    with engine_for(db_url).connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrading_from_the_first_revision_keeps_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    first = script.get_base()
    assert isinstance(first, str)
    upgrade(url, first)
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO alumnus (external_id, first_name, last_name, class_year, status, "
            "created_at, updated_at) VALUES ('OLD1', 'Ada', 'Okafor', 1990, 'active', "
            "'2020-01-01 00:00:00', '2020-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO contactpoint (alumnus_id, kind, value, source, status, created_at) "
            "VALUES (1, 'email', 'ada@example.com', 'enrolment', 'ok', '2020-01-01 00:00:00')"
        )
    upgrade(url)
    assert current_revision(url) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT external_id, first_name FROM alumnus")).all() == [
            ("OLD1", "Ada")
        ]
        assert connection.execute(sa.text("SELECT value FROM contactpoint")).scalar_one() == (
            "ada@example.com"
        )
    engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(db_url: str) -> None:
    config = alembic_config(db_url)
    from alembic import command

    command.downgrade(config, "base")
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
