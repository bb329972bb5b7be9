"""bench/reach.py's year holds each class's event, made and invited to with the shipped event
path (``plan_reunions``/``create_event``, ``plan_mailing`` key ``invite``, purpose events,
through the ledger) in both runs: an alum who refused news but not events is reached by their
class's invitation, which with the rules goes to the longest-unreached first. With the rules,
the hear-from-you reaches a Mastodon-only alum by direct message (``plan_direct``). The bench's
"who is unreached and why" line counts each unreached alum under one reason."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import (
    Alumnus,
    Campaign,
    ContactPoint,
    Delivery,
    EventMailing,
    table_of,
    utcnow,
)
from alumni.reach.coverage import WINDOW, reached_since
from bench.reach import People, simulate, why_unreached
from tests.factories import add_alumnus

NOBODY_TIPS = People(tip_chance=0.0)
BUDGET = 60  # about five messages a month: the invitation's cap (half the class) binds
_A = table_of(Alumnus)


def office(url: str) -> dict[str, int]:
    """Class 2016: Nia reads news; Eli refused news and service, not events (Nia's id is the
    lower).
    Class 2015: Lou is lost, Xan has no channel, Ria refused news, events and service."""
    return {
        "nia": add_alumnus(url, "NIA", email="nia@example.org"),
        "eli": add_alumnus(
            url, "ELI", email="eli@example.org", consent={"news": False, "service": False}
        ),
        "lou": add_alumnus(url, "LOU", class_year=2015, status="lost"),
        "xan": add_alumnus(url, "XAN", class_year=2015),
        "ria": add_alumnus(
            url,
            "RIA",
            class_year=2015,
            email="ria@example.org",
            consent={"news": False, "events": False, "service": False},
        ),
    }


def run_year(url: str, *, rules: bool) -> set[int]:
    """The bench's year to now; the alumni reached in it."""
    end = utcnow()
    simulate(
        url,
        rules=rules,
        budget=BUDGET,
        start=end - timedelta(days=365),
        seed=1,
        people=NOBODY_TIPS,
    )
    with engine_for(url).connect() as connection:
        return set(reached_since(connection, end - WINDOW))


def invitations_sent(url: str) -> dict[int, tuple[str, str, str]]:
    """Alum -> (campaign channel, purpose, mailing key) of the event mail sent to them."""
    c, d, m = table_of(Campaign), table_of(Delivery), table_of(EventMailing)
    with engine_for(url).connect() as connection:
        return {
            row.alumnus_id: (row.channel, row.purpose, row.key)
            for row in connection.execute(
                sa.select(d.c.alumnus_id, c.c.channel, c.c.purpose, m.c.key)
                .join(c, c.c.id == d.c.campaign_id)
                .join(m, m.c.campaign_id == c.c.id)
                .where(d.c.status == "sent")
            )
        }


def test_with_the_rules_the_events_only_alum_is_reached_by_the_class_invitation(
    sqlite_url: str,
) -> None:
    ids = office(sqlite_url)

    reached = run_year(sqlite_url, rules=True)

    # Nia by the hear-from-you; Eli, whom nothing of purpose news may reach, by the invitation
    assert {ids["nia"], ids["eli"]} <= reached
    assert invitations_sent(sqlite_url)[ids["eli"]] == ("calendar", "events", "invite")
    assert not reached & {ids["lou"], ids["xan"], ids["ria"]}


def test_without_the_rules_the_invitation_goes_by_id_and_misses_the_events_only_alum(
    sqlite_url: str,
) -> None:
    ids = office(sqlite_url)

    reached = run_year(sqlite_url, rules=False)

    # the cap of one goes to Nia (the lower id), whom the news reaches anyway
    assert invitations_sent(sqlite_url) == {ids["nia"]: ("calendar", "events", "invite")}
    assert ids["eli"] not in reached
    members = _A.c.class_year == 2016
    assert why_unreached(sqlite_url, utcnow(), members) == {"budget": 1}


def handle(url: str, external_id: str, kind: str, value: str) -> int:
    """An alum of 2015 with no email and one handle."""
    alumnus_id = add_alumnus(url, external_id, class_year=2015)
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id, kind=kind, value=value, source="test"
            )
        )
    return alumnus_id


def test_the_hear_from_you_reaches_a_mastodon_only_alum_by_direct_message(
    sqlite_url: str,
) -> None:
    office(sqlite_url)
    sam = handle(sqlite_url, "SAM", "mastodon", "@sam@social.example")

    reached = run_year(sqlite_url, rules=True)

    assert sam in reached
    d = table_of(Delivery)
    with engine_for(sqlite_url).connect() as connection:
        sent = connection.execute(
            sa.select(d.c.channel, d.c.address).where(d.c.alumnus_id == sam, d.c.status == "sent")
        ).all()
    assert [tuple(row) for row in sent] == [("mastodon", "@sam@social.example")]


def test_why_names_the_lost_the_channelless_the_social_only_and_the_refusing(
    sqlite_url: str,
) -> None:
    ids = office(sqlite_url)
    bo = handle(sqlite_url, "BO", "bluesky", "bo.bsky.example")  # Bluesky has no DMs

    reached = run_year(sqlite_url, rules=True)

    assert not reached & {ids["lou"], ids["xan"], ids["ria"], bo}
    members = _A.c.class_year == 2015
    assert why_unreached(sqlite_url, utcnow(), members) == {
        "lost": 1,
        "no channel": 1,
        "social only": 1,
        "consent": 1,
    }
