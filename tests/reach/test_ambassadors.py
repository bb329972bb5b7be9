"""Ambassadors as officers and the domain see them, on both databases: the roles (`alumni
ambassador add|remove|list|link`), ideas answered under the idea SLA, drafts that nothing sends
until an officer approves them, and the scope: an ambassador of 2016 acts for 2016 only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions, plan
from alumni.messages.ambassador_links import read_ambassador_token
from alumni.messages.rendering import TemplateStore
from alumni.models import (
    Campaign,
    CampaignDraft,
    Delivery,
    Request,
    RequestNotice,
    table_of,
    utcnow,
)
from alumni.reach import ambassadors, drafts, ideas
from alumni.reach.ambassadors import AmbassadorError, ScopeError
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign
from tests.snapshot import dump_tables

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def identity(url: str, external_id: str) -> ambassadors.AmbassadorIdentity:
    with write_transaction(engine_for(url)) as connection:
        role = ambassadors.add_ambassador(connection, external_id, now=utcnow())
        found = ambassadors.identity_of(connection, role)
    assert found is not None
    return found


def store() -> TemplateStore:
    return TemplateStore(get_settings().templates_dir)


def test_an_officer_adds_lists_links_and_removes_an_ambassador(db_url: str) -> None:
    add_alumnus(db_url, "A1", class_year=2016, first_name="Ana", last_name="Lima")
    add_alumnus(db_url, "B1", class_year=2015, first_name="Bo", last_name="Berg")
    added = invoke("ambassador", "add", "A1")
    assert "class of 2016" in added
    link = added.strip().splitlines()[-1]
    key = get_settings().signing_key()
    role = read_ambassador_token(key, link.rsplit("/", 1)[1], now=utcnow())
    assert invoke("ambassador", "add", "A1").strip().splitlines()[-1].startswith("http")
    listed = invoke("ambassador", "list")
    assert "2016  A1  Ana Lima" in listed and "B1" not in listed
    with engine_for(db_url).connect() as connection:
        a1 = ambassadors.find_alumnus(connection, "A1")
        assert ambassadors.ambassadors_of(connection, 2016) == [a1]
        assert ambassadors.ambassadors_of(connection, 2015) == []
        assert ambassadors.class_of_ambassador(connection, a1) == 2016
        assert ambassadors.identity_of(connection, role) is not None
    assert invoke("ambassador", "link", "A1").strip().startswith("http")

    assert "no longer an ambassador" in invoke("ambassador", "remove", "A1")
    with engine_for(db_url).connect() as connection:
        # the old link names nobody: an ex-ambassador acts for no class
        assert ambassadors.identity_of(connection, role) is None
        assert ambassadors.class_of_ambassador(connection, a1) is None
    result = runner.invoke(app, ["ambassador", "link", "A1"])
    assert result.exit_code == 1 and "is not an ambassador" in result.output


def test_adding_someone_who_cannot_be_an_ambassador_is_refused_and_changes_nothing(
    db_url: str,
) -> None:
    add_alumnus(db_url, "D1", status="deceased")
    before = dump_tables(engine_for(db_url))
    for external_id, words in (("D1", "is deceased"), ("NOPE", "no alum has external id")):
        result = runner.invoke(app, ["ambassador", "add", external_id])
        assert result.exit_code == 1 and words in result.output
    assert dump_tables(engine_for(db_url)) == before


def test_an_idea_is_a_desk_request_of_the_idea_type_for_the_ambassadors_own_class(
    db_url: str,
) -> None:
    add_alumnus(db_url, "A1", class_year=2016, email="ana@example.org")
    add_alumnus(db_url, "B1", class_year=2015, email="bo@example.org")
    ana, bo = identity(db_url, "A1"), identity(db_url, "B1")
    now = utcnow()
    with write_transaction(engine_for(db_url)) as connection:
        request_id = ideas.propose(
            connection, ana, kind="event", text="A picnic in the park", now=now
        )
        ideas.propose(connection, bo, kind="idea", text="A mentoring circle", now=now)
    with engine_for(db_url).connect() as connection:
        row = connection.execute(
            sa.select(table_of(Request)).where(table_of(Request).c.id == request_id)
        ).one()
        acks = connection.execute(
            sa.select(sa.func.count()).where(table_of(RequestNotice).c.request_id == request_id)
        ).scalar_one()
        of_2016 = ideas.ideas_of_class(connection, 2016)
        of_2015 = ideas.ideas_of_class(connection, 2015)
    assert row.type == "idea" and row.source == "web" and row.alumnus_id == ana.alumnus_id
    assert "class of 2016" in row.summary and "picnic" in row.summary
    assert acks == 1  # acknowledged, and answered under the idea SLA like every idea
    assert [i.request_id for i in of_2016] == [request_id]
    assert all("mentoring" not in i.summary for i in of_2016)
    assert [i.summary for i in of_2015] != [] and "picnic" not in of_2015[0].summary


def test_an_empty_or_long_idea_is_refused(db_url: str) -> None:
    add_alumnus(db_url, "A1")
    ana = identity(db_url, "A1")
    before = dump_tables(engine_for(db_url))
    for text, words in (("  ", "empty"), ("x" * (ideas.IDEA_LIMIT + 1), "more than")):
        with (
            pytest.raises(AmbassadorError, match=words),
            write_transaction(engine_for(db_url)) as connection,
        ):
            ideas.propose(connection, ana, kind="idea", text=text, now=utcnow())
    assert dump_tables(engine_for(db_url)) == before


def test_nothing_plans_a_draft_until_an_officer_approves_it(db_url: str) -> None:
    add_alumnus(db_url, "A1", class_year=2016, email="ana@example.org")
    add_alumnus(db_url, "A2", class_year=2016, email="ben@example.org")
    ana = identity(db_url, "A1")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        campaign_id = drafts.draft_campaign(
            connection,
            ana,
            name="Picnic next month",
            template="newsletter",
            send_at="10:00",
            send_on=None,
            store=store(),
            office_timezone="UTC",
            now=utcnow(),
        )
    options = PlanOptions.from_settings(get_settings())
    with pytest.raises(RuntimeError, match="an officer approves it"):
        plan(engine, campaign_id, now=utcnow(), options=options)
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(Delivery))
            ).scalar_one()
            == 0
        )
        campaign = connection.execute(
            sa.select(table_of(Campaign)).where(table_of(Campaign).c.id == campaign_id)
        ).one()
    assert (campaign.class_year, campaign.status, campaign.send_at) == (2016, "draft", "10:00")

    waiting = invoke("ambassador", "drafts")
    assert f"campaign {campaign_id}: class of 2016, Picnic next month (newsletter" in waiting
    assert "drafted by A1" in waiting
    result = runner.invoke(
        app, ["campaign", "approve", str(campaign_id), "--as", "ola@school.example.org"]
    )
    assert result.exit_code == 0, result.output
    summary = plan(engine, campaign_id, now=utcnow(), options=options)
    assert summary.pending == 2
    assert "no drafts wait for approval" in invoke("ambassador", "drafts")
    with engine.connect() as connection:
        draft = connection.execute(sa.select(table_of(CampaignDraft))).one()
    assert draft.approved_by == "ola@school.example.org" and draft.drafted_by == ana.alumnus_id


def test_approving_what_is_no_draft_is_refused(db_url: str) -> None:
    add_alumnus(db_url, "A1")
    campaign_id = add_campaign(db_url)
    for given, words in ((str(campaign_id), "needs no approval"), ("999", "no campaign")):
        result = runner.invoke(app, ["campaign", "approve", given, "--as", "o@school.example.org"])
        assert result.exit_code == 1 and words in result.output


def test_a_draft_with_a_bad_field_is_refused_naming_it(db_url: str) -> None:
    add_alumnus(db_url, "A1")
    ana = identity(db_url, "A1")
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    before = dump_tables(engine_for(db_url))
    for fields, words in (
        ({"name": " "}, "title is empty"),
        ({"template": "digest"}, "cannot be drafted"),
        ({"send_at": "25:99"}, "not a time"),
        ({"send_on": "tomorrow"}, "not a day"),
        ({"send_on": yesterday}, "has passed"),
    ):
        given = {"name": "Hello", "template": "reunion", "send_at": None, "send_on": None}
        given.update(fields)
        with (
            pytest.raises(AmbassadorError, match=words),
            write_transaction(engine_for(db_url)) as connection,
        ):
            drafts.draft_campaign(
                connection,
                ana,
                store=store(),
                office_timezone="UTC",
                now=utcnow(),
                **given,  # type: ignore[arg-type]
            )
    assert dump_tables(engine_for(db_url)) == before


def test_an_ambassador_of_2016_cannot_withdraw_or_touch_a_campaign_of_2015(db_url: str) -> None:
    add_alumnus(db_url, "A1", class_year=2016)
    add_alumnus(db_url, "B1", class_year=2015)
    ana, bo = identity(db_url, "A1"), identity(db_url, "B1")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        theirs = drafts.draft_campaign(
            connection,
            bo,
            name="2015 news",
            template="newsletter",
            send_at=None,
            send_on=None,
            store=store(),
            office_timezone="UTC",
            now=utcnow(),
        )
    plain_2015 = add_campaign(db_url, class_year=2015)
    before = dump_tables(engine)
    for campaign_id in (theirs, plain_2015):
        with (
            pytest.raises(ScopeError, match="another class"),
            write_transaction(engine) as connection,
        ):
            drafts.withdraw(connection, ana, campaign_id)
    assert dump_tables(engine) == before
    with engine.connect() as connection:
        assert drafts.drafts_of_class(connection, 2016) == []
        assert [d.campaign_id for d in drafts.drafts_of_class(connection, 2015)] == [theirs]
    with write_transaction(engine) as connection:
        drafts.withdraw(connection, bo, theirs)
    with engine.connect() as connection:
        assert drafts.drafts_of_class(connection, 2015) == []
