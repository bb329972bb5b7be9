"""Which channels work for each alum, and the lost classmates: both databases."""

from __future__ import annotations

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import ContactPoint, table_of, utcnow
from alumni.people.suppression import suppress, unsubscribe
from alumni.reach.channels import LostAlum, lost_classmates, working_channels
from tests.factories import add_alumnus


def _point(url: str, alumnus_id: int, kind: str, value: str, **values: object) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id,
                kind=kind,
                value=value,
                source="test",
                created_at=utcnow(),
                **values,
            )
        )


def test_each_kind_of_detail_counts_only_while_it_works(db_url: str) -> None:
    ok = add_alumnus(db_url, "OK", email="ok@example.org")
    bouncing = add_alumnus(db_url, "BO", email="bo@example.org", email_status="bouncing")
    invalid = add_alumnus(db_url, "IN", email="in@example.org", email_status="invalid")
    suspect = add_alumnus(db_url, "SU", email="su@example.org", email_status="suspect")
    old = add_alumnus(db_url, "OLD")
    _point(db_url, old, "email", "old@example.org", superseded_at=utcnow())
    erased_address = add_alumnus(db_url, "SUP", email="gone@example.org")
    unsubscribed = add_alumnus(db_url, "UNS", email="news-off@example.org")
    social = add_alumnus(db_url, "SOC")
    _point(db_url, social, "mastodon", "@ana@mastodon.example")
    _point(db_url, social, "bluesky", "ana.bsky.example")
    phone_only = add_alumnus(db_url, "PH")
    _point(db_url, phone_only, "phone", "+441632960001")
    with write_transaction(engine_for(db_url)) as connection:
        suppress(connection, kind="email", value="gone@example.org", reason="hard_bounce")
        unsubscribe(connection, kind="email", value="news-off@example.org")

    with engine_for(db_url).connect() as connection:
        channels = working_channels(connection)

    assert channels == {
        ok: frozenset({"email"}),
        bouncing: frozenset({"email"}),
        invalid: frozenset(),
        suspect: frozenset(),
        old: frozenset(),
        erased_address: frozenset(),
        # Unsubscribed from news and events only: service messages may still go.
        unsubscribed: frozenset({"email"}),
        social: frozenset({"mastodon", "bluesky"}),
        phone_only: frozenset(),
    }


def test_only_contactable_alumni_of_the_class_are_counted(db_url: str) -> None:
    active = add_alumnus(db_url, "A", class_year=2016)
    lost = add_alumnus(db_url, "L", class_year=2016, status="lost")
    for status in ("deceased", "erased", "do_not_contact"):
        add_alumnus(db_url, status, class_year=2016, status=status)
    other_class = add_alumnus(db_url, "O", class_year=2015, email="o@example.org")

    with engine_for(db_url).connect() as connection:
        of_2016 = working_channels(connection, class_year=2016)
        everyone = working_channels(connection)

    assert of_2016 == {active: frozenset(), lost: frozenset()}
    assert everyone == {**of_2016, other_class: frozenset({"email"})}


def test_lost_classmates_are_named_by_name_and_class_only(db_url: str) -> None:
    add_alumnus(db_url, "R", class_year=2016, email="r@example.org")
    zoe = add_alumnus(db_url, "Z", class_year=2016, first_name="Zoë", last_name="Abara")
    bea = add_alumnus(
        db_url, "B", class_year=2016, first_name="Bea", last_name="Costa", status="lost"
    )
    add_alumnus(db_url, "X", class_year=2015, first_name="Xu", last_name="Aaron")
    add_alumnus(db_url, "D", class_year=2016, status="deceased")

    with engine_for(db_url).connect() as connection:
        lost = lost_classmates(connection, 2016)

    assert lost == [
        LostAlum(alumnus_id=zoe, display_name="Zoë Abara", class_year=2016),
        LostAlum(alumnus_id=bea, display_name="Bea Costa", class_year=2016),
    ]
