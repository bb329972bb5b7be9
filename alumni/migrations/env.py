"""Alembic environment: migrates the database named in the config's attributes."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import alumni.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alumni.db import make_engine

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("no database URL given to the migrations")

connection = config.attributes.get("connection")
if connection is not None:
    context.configure(
        connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=SQLModel.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
