from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from alumni.db import current_revision, engine_for, head_revision, upgrade, write_transaction
from alumni.models import Alumnus


def test_init_twice_changes_nothing(db_url: str) -> None:
    before = current_revision(db_url)
    upgrade(db_url)
    assert current_revision(db_url) == before == head_revision()


def test_naive_datetimes_are_refused_and_aware_ones_come_back_in_utc(db_url: str) -> None:
    engine = engine_for(db_url)
    table = Alumnus.__table__
    row = dict(
        external_id="A1", first_name="Ana", last_name="Lima", class_year=2001, status="active"
    )
    with write_transaction(engine) as connection, pytest.raises(sa.exc.StatementError):
        connection.execute(
            sa.insert(table),
            [{**row, "created_at": datetime(2020, 1, 1), "updated_at": datetime(2020, 1, 1)}],
        )
    stamp = datetime(2020, 1, 1, 12, tzinfo=UTC)
    with write_transaction(engine) as connection:
        connection.execute(sa.insert(table), [{**row, "created_at": stamp, "updated_at": stamp}])
    with engine.connect() as connection:
        got = connection.execute(sa.select(table.c.created_at)).scalar_one()
    assert got == stamp and got.tzinfo is not None
