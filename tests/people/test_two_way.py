from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Alumnus, table_of
from alumni.people.two_way import note_two_way
from tests.factories import add_alumnus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def last(url: str, alumnus_id: int) -> tuple[datetime | None, str | None]:
    table = table_of(Alumnus)
    with engine_for(url).connect() as connection:
        row = connection.execute(
            sa.select(table.c.last_two_way_at, table.c.last_two_way_channel).where(
                table.c.id == alumnus_id
            )
        ).one()
    return row.last_two_way_at, row.last_two_way_channel


def test_the_latest_answer_wins_whatever_order_it_is_noted_in(db_url: str) -> None:
    alum = add_alumnus(db_url, "A1")
    with write_transaction(engine_for(db_url)) as connection:
        assert note_two_way(connection, alum, at=NOW, channel="web")
        assert not note_two_way(connection, alum, at=NOW - timedelta(days=1), channel="email")
        assert not note_two_way(connection, alum, at=NOW, channel="web")  # the same, again
    assert last(db_url, alum) == (NOW, "web")
    with write_transaction(engine_for(db_url)) as connection:
        assert note_two_way(connection, alum, at=NOW + timedelta(hours=1), channel="email")
    assert last(db_url, alum) == (NOW + timedelta(hours=1), "email")


def test_an_unknown_channel_or_a_naive_time_is_refused(db_url: str) -> None:
    alum = add_alumnus(db_url, "A1")
    with write_transaction(engine_for(db_url)) as connection:
        with pytest.raises(ValueError, match="unknown channel 'fax'"):
            note_two_way(connection, alum, at=NOW, channel="fax")
        with pytest.raises(ValueError, match="no time zone"):
            note_two_way(connection, alum, at=NOW.replace(tzinfo=None), channel="web")
    assert last(db_url, alum) == (None, None)
