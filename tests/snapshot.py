"""Read back every table, to compare a whole database before and after an operation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel


def dump_tables(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the models' metadata, sorted, by table name."""
    with engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(sa.select(table))), key=repr
            )
            for table in SQLModel.metadata.sorted_tables
        }
