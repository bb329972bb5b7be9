"""Reach first: the ordering rule with a given ``now``, and a capped campaign's plan keeping
the longest-unreached pending (shipped settings), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alumni.db import engine_for
from alumni.delivery import planning
from alumni.reach.priority import longest_unreached_first, plan_options
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_never_reached_first_then_longest_ago_and_a_later_reach_is_not_known_yet() -> None:
    last = {2: NOW - timedelta(days=10), 3: NOW - timedelta(days=400), 4: NOW + timedelta(days=1)}
    assert longest_unreached_first([2, 3, 4, 1, 5], last, now=NOW) == [1, 4, 5, 3, 2]
    # a year on, 4's reach is known and the most recent
    later = NOW + timedelta(days=365)
    assert longest_unreached_first([2, 3, 4, 1, 5], last, now=later) == [1, 5, 3, 2, 4]


def outcomes(url: str, campaign_id: int) -> dict[int, str]:
    return {row.alumnus_id: row.skip_reason or row.status for row in deliveries(url, campaign_id)}


def test_a_capped_campaign_reaches_the_longest_unreached_first(db_url: str) -> None:
    now = datetime.now(UTC)
    ids = [add_alumnus(db_url, f"P{n}", email=f"p{n}@example.org") for n in range(5)]
    earlier = add_campaign(db_url, template="newsletter")
    add_sent_delivery(db_url, earlier, ids[0], sent_at=now - timedelta(days=5))
    add_sent_delivery(db_url, earlier, ids[1], sent_at=now - timedelta(days=200))
    add_sent_delivery(db_url, earlier, ids[4], sent_at=now - timedelta(days=30))
    capped = add_campaign(db_url, max_recipients=3)
    engine = engine_for(db_url)
    options = plan_options(get_settings())  # the shipped budget, consent and order

    summary = planning.plan(engine, capped, now=now, options=options)

    assert (summary.pending, summary.skipped) == (3, 2)
    assert outcomes(db_url, capped) == {
        ids[2]: "pending",  # never reached
        ids[3]: "pending",  # never reached
        ids[1]: "pending",  # 200 days ago
        ids[4]: "over_cap",  # 30 days ago
        ids[0]: "over_cap",  # 5 days ago
    }
    skipped = [row for row in deliveries(db_url, capped) if row.status == "skipped"]
    assert all(row.message_id is None and row.due_at is None for row in skipped)

    # a rerun changes nothing; someone new to the class finds the cap already full
    planning.plan(engine, capped, now=now, options=options)
    newcomer = add_alumnus(db_url, "P9", email="p9@example.org")
    again = planning.plan(engine, capped, now=now, options=options)
    assert (again.added, again.pending) == (1, 3)
    assert outcomes(db_url, capped)[newcomer] == "over_cap"


def test_without_an_order_a_cap_keeps_the_lowest_ids(sqlite_url: str) -> None:
    ids = [add_alumnus(sqlite_url, f"Q{n}", email=f"q{n}@example.org") for n in range(3)]
    capped = add_campaign(sqlite_url, max_recipients=1)
    planning.plan(
        engine_for(sqlite_url),
        capped,
        now=NOW,
        options=planning.PlanOptions.from_settings(get_settings()),
    )
    assert outcomes(sqlite_url, capped) == {
        ids[0]: "pending",
        ids[1]: "over_cap",
        ids[2]: "over_cap",
    }


def test_an_uncapped_campaign_is_planned_as_before(sqlite_url: str) -> None:
    for n in range(3):
        add_alumnus(sqlite_url, f"R{n}", email=f"r{n}@example.org")
    campaign = add_campaign(sqlite_url)
    summary = planning.plan(
        engine_for(sqlite_url), campaign, now=NOW, options=plan_options(get_settings())
    )
    assert (summary.pending, summary.skipped) == (3, 0)


def test_the_cli_keeps_a_cap_and_refuses_a_cap_below_one(sqlite_url: str) -> None:
    from typer.testing import CliRunner

    from alumni.cli.main import app
    from alumni.delivery.ledger import load_campaign

    add_alumnus(sqlite_url, "S1", email="s1@example.org")
    base = ["campaign", "create", "--name", "N", "--class-year", "2016", "--template", "reunion"]
    runner = CliRunner()
    refused = runner.invoke(app, [*base, "--max-recipients", "0"])
    assert refused.exit_code == 1 and "--max-recipients 0: give 1 or more" in refused.output
    made = runner.invoke(app, [*base, "--max-recipients", "250"])
    assert made.exit_code == 0, made.output
    with engine_for(sqlite_url).connect() as connection:
        campaign = load_campaign(connection, int(made.output.strip().splitlines()[-1]))
    assert campaign.max_recipients == 250
