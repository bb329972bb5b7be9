"""bench/reach.py's with-rules year runs the shipped lost-alumni drive: the ambassadors' digest
lists a lost classmate, a simulated classmate tips the office (``submit_tip``), the officer
verifies the tip of the least-reached class first (``pending_tips_by_reach``, ``verify_tip``),
the consent question goes through the ledger, and the found alum then counts as reached."""

from __future__ import annotations

from datetime import timedelta
from random import Random

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.models import ReachTip, table_of, utcnow
from alumni.reach.ambassadors import add_ambassador
from alumni.reach.coverage import WINDOW, reached_since
from bench.reach import People, drive_month
from tests.factories import add_alumnus, add_campaign, add_sent_delivery

OPTIONS = PlanOptions(message_id_domain="school.example")
EVERYONE_HELPS = People(tip_chance=1.0, tip_works=1.0, answers=1.0, says_yes=1.0, officer_checks=1)
SERVICE = {"service": True}


def two_classes(url: str) -> dict[str, int]:
    """Class 2016: an ambassador and a lost alum. Class 2015: an ambassador, a lost alum and
    two classmates reached last month, so 2015 is the better-reached class."""
    ids = {
        "amb16": add_alumnus(url, "A16", email="a16@example.org", consent=SERVICE),
        "lost16": add_alumnus(url, "L16", status="lost", first_name="Bea"),
        "amb15": add_alumnus(url, "A15", class_year=2015, email="a15@example.org", consent=SERVICE),
        "lost15": add_alumnus(url, "L15", class_year=2015, status="lost", first_name="Rui"),
    }
    news = add_campaign(url, class_year=2015)
    for n in range(2):
        reached = add_alumnus(url, f"R{n}", class_year=2015, email=f"r{n}@example.org")
        add_sent_delivery(url, news, reached, sent_at=utcnow() - timedelta(days=30))
    with write_transaction(engine_for(url)) as connection:
        add_ambassador(connection, "A16", now=utcnow())
        add_ambassador(connection, "A15", now=utcnow())
    return ids


def tips(url: str) -> dict[int, tuple[str, str | None]]:
    t = table_of(ReachTip)
    with engine_for(url).connect() as connection:
        return {
            row.lost_alumnus_id: (row.status, row.consent_answer)
            for row in connection.execute(sa.select(t))
        }


def reached(url: str) -> set[int]:
    with engine_for(url).connect() as connection:
        return set(reached_since(connection, utcnow() - WINDOW))


def test_the_drive_month_tips_verifies_least_reached_class_first_and_reaches_the_found(
    sqlite_url: str,
) -> None:
    ids = two_classes(sqlite_url)
    assert not reached(sqlite_url) & {ids["lost16"], ids["lost15"]}

    done = drive_month(
        sqlite_url, utcnow(), OPTIONS, EVERYONE_HELPS, Random(1), Random(2), budget_left=10
    )

    assert (done["digest"], done["tips"], done["verified"], done["consent"]) == (2, 2, 1, 1)
    # One check a month: the lost alum of 2016 (reached least) first; 2015's tip waits.
    assert tips(sqlite_url) == {
        ids["lost16"]: ("verified", "yes"),
        ids["lost15"]: ("pending", None),
    }
    assert ids["lost16"] in reached(sqlite_url)
    assert ids["lost15"] not in reached(sqlite_url)

    later = drive_month(
        sqlite_url,
        utcnow() + timedelta(days=31),
        OPTIONS,
        EVERYONE_HELPS,
        Random(1),
        Random(2),
        budget_left=10,
    )
    assert later["verified"] == 1
    assert tips(sqlite_url)[ids["lost15"]] == ("verified", "yes")
    assert ids["lost15"] in reached(sqlite_url)


def test_with_the_drive_switched_off_nobody_is_tipped_or_found(sqlite_url: str) -> None:
    ids = two_classes(sqlite_url)
    off = People(tip_chance=0.0)

    done = drive_month(sqlite_url, utcnow(), OPTIONS, off, Random(1), Random(2), budget_left=10)

    assert (done["digest"], done["tips"], done["verified"]) == (2, 0, 0)
    assert tips(sqlite_url) == {}
    assert not reached(sqlite_url) & {ids["lost16"], ids["lost15"]}


def test_a_tipped_address_that_does_not_work_bounces_and_reaches_nobody(sqlite_url: str) -> None:
    ids = two_classes(sqlite_url)
    dead = People(tip_chance=1.0, tip_works=0.0, answers=1.0, officer_checks=2)

    done = drive_month(sqlite_url, utcnow(), OPTIONS, dead, Random(1), Random(2), budget_left=10)

    assert (done["verified"], done["consent"], done["answered"]) == (2, 2, 0)
    assert not reached(sqlite_url) & {ids["lost16"], ids["lost15"]}


def test_with_no_budget_left_the_officer_verifies_nothing(sqlite_url: str) -> None:
    ids = two_classes(sqlite_url)

    done = drive_month(
        sqlite_url, utcnow(), OPTIONS, EVERYONE_HELPS, Random(1), Random(2), budget_left=0
    )

    assert (done["tips"], done["verified"], done["consent"]) == (2, 0, 0)
    assert tips(sqlite_url) == {ids["lost16"]: ("pending", None), ids["lost15"]: ("pending", None)}
