"""One class of N alumni, each with a working email address, written at bulk speed: the
population the campaign and scale-out benchmarks (and the scale-out test) send to.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from alumni.db import engine_for, upgrade, write_transaction
from alumni.models import Alumnus, ContactPoint, table_of, utcnow

LOCALES = ("en", "es", "pt-BR", "fr", "en-GB", "de")
YEAR = 2016


def daytime_zone(now: datetime) -> str:
    """An Etc/GMT zone where it is about midday now, so nothing waits for the morning."""
    offset = (12 - now.hour + 12) % 24 - 12
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def populate(url: str, count: int, zone: str) -> None:
    """Create or upgrade the database at ``url`` and add one class of ``count`` alumni (class
    of ``YEAR``, time zone ``zone``), alum ``N`` with the working address alumN@example.org."""
    upgrade(url)
    now = utcnow()
    people = table_of(Alumnus)
    contacts = table_of(ContactPoint)
    with write_transaction(engine_for(url)) as connection:
        for start in range(0, count, 10_000):
            ids = range(start, min(start + 10_000, count))
            connection.execute(
                sa.insert(people),
                [
                    {
                        "external_id": f"B{i:07d}",
                        "first_name": f"Zoë{i}",
                        "last_name": "Müller",
                        "class_year": YEAR,
                        "programme": "Physics",
                        "country": "GB",
                        "city": "London",
                        "timezone": zone,
                        "locale": LOCALES[i % len(LOCALES)],
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
        connection.execute(
            sa.insert(contacts).from_select(
                ["alumnus_id", "kind", "value", "source", "status", "created_at"],
                sa.select(
                    people.c.id,
                    sa.literal("email"),
                    sa.literal("alum")
                    + sa.cast(people.c.id, sa.String)
                    + sa.literal("@example.org"),
                    sa.literal("bench"),
                    sa.literal("ok"),
                    sa.literal(now, type_=sa.DateTime),
                ),
            )
        )
