"""Fairness: an audience filter by career, income, employer or giving is refused without a
reason; a reason is kept and shown; the planner honours a filter; a campaign's groups reached
at less than half its average are flagged (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery import planning
from alumni.delivery.ledger import load_campaign
from alumni.delivery.report import campaign_report
from alumni.models import Alumnus, Campaign, ContactPoint, Delivery, Response, table_of
from alumni.reach.fairness import (
    SensitiveFilter,
    check_audience,
    compare_groups,
    filterable_fields,
    parse_where,
)
from tests.factories import add_alumnus, add_campaign, deliveries

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.mark.parametrize(
    "field",
    [
        "employer",
        "job_title",
        "Occupation",
        "career_stage",
        "annual_income",
        "salary_band",
        "giving_level",
        "donor",
        "donation_total",
        "industry",
    ],
)
def test_a_sensitive_filter_is_refused_without_a_reason(field: str) -> None:
    with pytest.raises(SensitiveFilter, match=f"--where {field.lower()}.*--reason"):
        check_audience(parse_where([f"{field}=x"]), None)
    with pytest.raises(SensitiveFilter):
        check_audience(parse_where([f"{field}=x"]), "   ")  # blank is no reason


def test_with_a_reason_a_sensitive_field_passes_and_the_reason_is_kept() -> None:
    checked = check_audience(
        {"employer": ["Acme"]}, " Acme's own alumni evening ", known=("employer", "country")
    )
    assert checked.reason == "Acme's own alumni evening"
    assert checked.sensitive == ("employer",)


def test_the_fields_officers_may_use_and_bad_input() -> None:
    assert {"country", "city", "programme", "locale"} <= set(filterable_fields())
    assert not {"external_id", "first_name", "status"} & set(filterable_fields())
    assert parse_where(["country=GB", "country=FR", "city= Porto "]) == {
        "country": ["GB", "FR"],
        "city": ["Porto"],
    }
    with pytest.raises(ValueError, match="write FIELD=VALUE"):
        parse_where(["country"])
    with pytest.raises(ValueError, match="no such alumni field; filter by one of"):
        check_audience({"shoe_size": ["42"]}, None)
    # this database holds no career, income or giving data: a reason does not invent a field
    with pytest.raises(ValueError, match="no such alumni field"):
        check_audience({"employer": ["Acme"]}, "a reason")


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def count_campaigns(url: str) -> int:
    with engine_for(url).connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(Campaign))
            ).scalar_one()
        )


def test_the_cli_refuses_an_employer_filter_and_creates_nothing(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "F1", email="f1@example.org")
    base = ["campaign", "create", "--name", "N", "--class-year", "2016", "--template", "newsletter"]
    result = runner.invoke(app, [*base, "--where", "employer=Acme"])
    assert result.exit_code == 1
    assert "not narrowed by career, income, employer or giving" in result.output
    assert count_campaigns(sqlite_url) == 0
    lonely = runner.invoke(app, [*base, "--reason", "because"])
    assert lonely.exit_code == 1 and "--reason explains a --where" in lonely.output
    nobody = runner.invoke(app, [*base, "--where", "country=ZZ"])
    assert nobody.exit_code == 1 and "nobody in the class of 2016 matches" in nobody.output
    assert count_campaigns(sqlite_url) == 0


def test_a_filter_narrows_the_plan_and_its_reason_is_shown_in_the_report(db_url: str) -> None:
    gb = [add_alumnus(db_url, f"G{n}", email=f"g{n}@example.org", country="GB") for n in range(2)]
    add_alumnus(db_url, "P1", email="p1@example.org", country="PT")
    created = invoke(
        "campaign",
        "create",
        "--name",
        "London drinks",
        "--class-year",
        "2016",
        "--template",
        "newsletter",
        "--where",
        "country=GB",
        "--reason",
        "an evening in London, for those who live there",
    )
    campaign_id = int(created.strip().splitlines()[-1])
    engine = engine_for(db_url)
    with engine.connect() as connection:
        campaign = load_campaign(connection, campaign_id)
    assert campaign.audience_where == {"country": ["GB"]}
    planning.plan(engine, campaign_id, now=NOW, options=planning.PlanOptions())
    assert sorted(row.alumnus_id for row in deliveries(db_url, campaign_id)) == gb
    with engine.connect() as connection:
        markdown = campaign_report(connection, campaign_id).markdown()
    assert "Audience narrowed to: country = GB." in markdown
    assert "Reason given for the filter: an evening in London" in markdown
    status = json.loads(invoke("campaign", "status", str(campaign_id), "--format", "json"))
    assert status["audience_reason"].startswith("an evening in London")
    assert status["fairness"]["audience_where"] == {"country": ["GB"]}
    assert "reason given: an evening in London" in invoke("campaign", "status", str(campaign_id))


def test_groups_reached_at_less_than_half_the_average_are_flagged(db_url: str) -> None:
    campaign_id = add_campaign(db_url, template="newsletter")
    people = [
        add_alumnus(db_url, f"H{n}", email=f"h{n}@example.org", country=country)
        for n, country in enumerate(["GB"] * 4 + ["FR"] * 4)
    ]
    with write_transaction(engine_for(db_url)) as connection:
        for n, alumnus_id in enumerate(people):
            delivery_id = connection.execute(
                sa.insert(table_of(Delivery))
                .values(
                    campaign_id=campaign_id,
                    alumnus_id=alumnus_id,
                    channel="email",
                    status="sent",
                    sent_at=NOW - timedelta(days=2),
                    attempts=1,
                    counts_toward_budget=True,
                    maybe_duplicate=False,
                )
                .returning(table_of(Delivery).c.id)
            ).scalar_one()
            kind = "bounce_hard" if n >= 5 else "click" if n == 0 else None
            if kind:
                connection.execute(
                    sa.insert(table_of(Response)).values(
                        kind=kind,
                        source="email",
                        remote_id=f"x{n}",
                        delivery_id=delivery_id,
                        at=NOW,
                        needs_attention=False,
                        created_at=NOW,
                    )
                )
        connection.execute(
            sa.update(table_of(ContactPoint))
            .where(table_of(ContactPoint).c.alumnus_id.in_(people[:2]))
            .values(verified_at=NOW - timedelta(days=30))
        )
    with engine_for(db_url).connect() as connection:
        report = compare_groups(connection, campaign_id, now=NOW)
    groups = {(g.by, g.group): g for g in report.groups}
    assert (report.alumni, report.reached) == (8, 5)  # three in France bounced
    assert groups["country", "GB"].reached_share == 1.0
    assert groups["country", "GB"].responded == 1
    assert groups["country", "FR"].reached == 1 and groups["country", "FR"].flagged  # 25% < 31%
    assert not groups["country", "GB"].flagged
    assert groups["contact_age", "verified < 1 year"].alumni == 2
    assert groups["contact_age", "never verified"].alumni == 6
    assert "below half the average" in report.markdown()


def test_contact_age_groups_at_their_edges_with_a_given_now(db_url: str) -> None:
    ages = {
        "A0": None,
        "A1": timedelta(days=365),  # a year ago to the minute: still under a year
        "A2": timedelta(days=365, minutes=1),
        "A3": timedelta(days=3 * 365),
        "A4": timedelta(days=3 * 365, minutes=1),
    }
    for external_id in ages:
        add_alumnus(db_url, external_id, email=f"{external_id.lower()}@example.org")
    campaign_id = add_campaign(db_url)
    planning.plan(engine_for(db_url), campaign_id, now=NOW, options=planning.PlanOptions())
    contacts, people = table_of(ContactPoint), table_of(Alumnus)
    with write_transaction(engine_for(db_url)) as connection:
        for external_id, age in ages.items():
            if age is None:
                continue
            who = sa.select(people.c.id).where(people.c.external_id == external_id)
            connection.execute(
                sa.update(contacts)
                .where(contacts.c.alumnus_id == who.scalar_subquery())
                .values(verified_at=NOW - age)
            )
    with engine_for(db_url).connect() as connection:
        report = compare_groups(connection, campaign_id, now=NOW)
    ages_found = {g.group: g.alumni for g in report.groups if g.by == "contact_age"}
    assert ages_found == {
        "never verified": 1,
        "verified < 1 year": 1,
        "verified 1-3 years": 2,
        "verified > 3 years": 1,
    }
