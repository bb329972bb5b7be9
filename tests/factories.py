"""Plain functions that put rows in a test database (Core inserts, UTC-aware times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Alumnus, Campaign, Consent, ContactPoint, Delivery, table_of, utcnow


def add_alumnus(
    url: str,
    external_id: str,
    *,
    class_year: int = 2016,
    email: str | None = None,
    email_status: str = "ok",
    status: str = "active",
    country: str | None = "GB",
    timezone: str | None = "Europe/London",
    locale: str | None = "en",
    first_name: str = "Ana",
    last_name: str = "Lima",
    consent: dict[str, bool] | None = None,
) -> int:
    now = utcnow()
    with write_transaction(engine_for(url)) as connection:
        alumnus_id: int = connection.execute(
            sa.insert(table_of(Alumnus))
            .values(
                external_id=external_id,
                first_name=first_name,
                last_name=last_name,
                class_year=class_year,
                country=country,
                timezone=timezone,
                locale=locale,
                status=status,
                created_at=now,
                updated_at=now,
            )
            .returning(table_of(Alumnus).c.id)
        ).scalar_one()
        if email:
            connection.execute(
                sa.insert(table_of(ContactPoint)).values(
                    alumnus_id=alumnus_id,
                    kind="email",
                    value=email,
                    source="test",
                    status=email_status,
                    created_at=now,
                )
            )
        for purpose, granted in (consent or {}).items():
            connection.execute(
                sa.insert(table_of(Consent)).values(
                    alumnus_id=alumnus_id,
                    purpose=purpose,
                    channel="any",
                    granted=granted,
                    evidence="test",
                    at=now,
                )
            )
    return alumnus_id


def add_handle(url: str, alumnus_id: int, handle: str, *, network: str = "mastodon") -> None:
    """Give an alum a working handle on ``network`` (a current contact point)."""
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id,
                kind=network,
                value=handle,
                source="test",
                status="ok",
                created_at=utcnow(),
            )
        )


def add_campaign(
    url: str,
    *,
    class_year: int = 2016,
    template: str = "reunion",
    purpose: str = "news",
    **values: Any,
) -> int:
    with write_transaction(engine_for(url)) as connection:
        campaign_id: int = connection.execute(
            sa.insert(table_of(Campaign))
            .values(
                **{
                    "name": f"test {class_year}",
                    "class_year": class_year,
                    "template": template,
                    "purpose": purpose,
                    "channel": "email",
                    "status": "draft",
                    "created_at": utcnow(),
                    **values,
                }
            )
            .returning(table_of(Campaign).c.id)
        ).scalar_one()
    return campaign_id


def add_sent_delivery(url: str, campaign_id: int, alumnus_id: int, *, sent_at: datetime) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(Delivery)).values(
                campaign_id=campaign_id,
                alumnus_id=alumnus_id,
                channel="email",
                status="sent",
                sent_at=sent_at,
                attempts=1,
                counts_toward_budget=True,
                maybe_duplicate=False,
            )
        )


def deliveries(url: str, campaign_id: int) -> list[Any]:
    table = table_of(Delivery)
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(table).where(table.c.campaign_id == campaign_id).order_by(table.c.id)
            )
        )


def daytime_zone() -> str:
    """An IANA zone where it is about midday now, so quiet hours never hold a test's mail back.

    Tests that send "now" must not depend on the hour the suite runs at.
    """
    hour = utcnow().hour
    offset = (12 - hour + 12) % 24 - 12  # local = UTC + offset, about 12:00
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def planned_class(url: str, size: int, *, now: datetime) -> int:
    """A campaign for a class of ``size`` alumni with addresses, planned at ``now``; its id."""
    from alumni.delivery import planning

    for n in range(size):
        add_alumnus(url, f"C{n}", email=f"c{n}@example.com")
    campaign = add_campaign(url)
    options = planning.PlanOptions(message_id_domain="school.example")
    planning.plan(engine_for(url), campaign, now=now, options=options)
    return campaign
