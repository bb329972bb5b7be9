"""The officer's side of the lost-alumni drive: `alumni tips list|verify|reject`, and the one
message a found alum gets (the consent question, through the ledger and a real SMTP server);
nothing else reaches them until they say yes."""

from __future__ import annotations

import email
import json
import re
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import (
    Alumnus,
    Campaign,
    Consent,
    ContactPoint,
    ReachTip,
    Request,
    table_of,
    utcnow,
)
from alumni.reach.channels import lost_classmates
from alumni.reach.freshness import FreshnessRules
from alumni.reach.still_yours import to_ask
from alumni.reach.tips import TipError, answer_consent, submit_tip, verify_tip
from alumni.settings import get_settings
from flows.campaign import class_campaign
from tests.factories import add_alumnus, add_campaign, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve

runner = CliRunner()
OPTIONS = PlanOptions(message_id_domain="school.example")
CONSENT_LINK = re.compile(r"https?://\S+/consent/(\S+)")


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def one(url: str, model: type, **where: Any) -> Any:
    table = table_of(model)
    with engine_for(url).connect() as connection:
        return connection.execute(
            sa.select(table).where(*(table.c[k] == v for k, v in where.items()))
        ).one()


def drive(url: str) -> tuple[int, int, int]:
    """A tipster, a lost classmate (status lost, an address that bounced) and a tip about them."""
    tipster = add_alumnus(url, "T", first_name="Tomás", email="tomas@example.org")
    lost = add_alumnus(
        url,
        "L",
        first_name="Bea",
        last_name="Costa",
        status="lost",
        email="old@dead.example",
        email_status="invalid",
        timezone=daytime_zone(),
    )
    with write_transaction(engine_for(url)) as connection:
        tip = submit_tip(
            connection,
            tipster_id=tipster,
            lost_alumnus_id=lost,
            kind="email",
            value="bea@example.net",
            how_known="We sing in the same choir.",
            now=utcnow(),
        )
    return tipster, lost, tip


def test_verifying_a_tip_adds_the_detail_and_plans_only_the_consent_question(db_url: str) -> None:
    tipster, lost, tip = drive(db_url)

    with write_transaction(engine_for(db_url)) as connection:
        done = verify_tip(
            connection, tip, officer="ines@school.example", now=utcnow(), options=OPTIONS
        )
        with pytest.raises(
            TipError, match=f"tip {tip} was already verified by ines@school.example"
        ):
            verify_tip(
                connection, tip, officer="ines@school.example", now=utcnow(), options=OPTIONS
            )

    point = one(db_url, ContactPoint, id=done.contact_point_id)
    assert (point.alumnus_id, point.value, point.source, point.verified_at, point.status) == (
        lost,
        "bea@example.net",
        f"tip from {tipster}",
        None,
        "ok",
    )
    assert one(db_url, Alumnus, id=lost).status == "active"
    campaign = one(db_url, Campaign, id=done.campaign_id)
    assert (campaign.template, campaign.purpose) == ("consent_question", "service")
    assert [(d.alumnus_id, d.address, d.status) for d in deliveries(db_url, done.campaign_id)] == [
        (lost, "bea@example.net", "pending")
    ]
    # Planning it again (the class-campaign flow does) adds nobody of the class.
    plan(engine_for(db_url), done.campaign_id, now=utcnow(), options=OPTIONS)
    assert len(deliveries(db_url, done.campaign_id)) == 1
    tip_row = one(db_url, ReachTip, id=tip)
    assert (tip_row.status, tip_row.decided_by) == ("verified", "ines@school.example")
    request = one(db_url, Request, id=tip_row.request_id)
    assert (request.status, request.outcome) == ("closed", "resolved")

    # Nothing else until they say yes: a news campaign skips them, still-yours leaves them be.
    news = add_campaign(db_url, class_year=2016)
    plan(engine_for(db_url), news, now=utcnow(), options=OPTIONS)
    skipped = {d.alumnus_id: d.skip_reason for d in deliveries(db_url, news)}
    assert skipped[lost] == "no_consent"
    with engine_for(db_url).connect() as connection:
        asked = to_ask(connection, now=utcnow(), rules=FreshnessRules(), every_months=12)
        assert lost not in asked.get(2016, {})
        assert lost_classmates(connection, 2016) == []  # found: a working email now
    with write_transaction(engine_for(db_url)) as connection:
        answer_consent(connection, lost, yes=True, now=utcnow())
    later = add_campaign(db_url, class_year=2016)
    plan(engine_for(db_url), later, now=utcnow(), options=OPTIONS)
    assert {d.alumnus_id: d.status for d in deliveries(db_url, later)}[lost] == "pending"
    assert one(db_url, ReachTip, id=tip).consent_answer == "yes"


def test_a_tip_is_only_about_a_lost_classmate(db_url: str) -> None:
    tipster = add_alumnus(db_url, "T", email="t@example.org")
    found = add_alumnus(db_url, "F", email="f@example.org")
    other_class = add_alumnus(db_url, "O", class_year=2015)
    for who in (found, other_class, tipster):
        with (
            write_transaction(engine_for(db_url)) as connection,
            pytest.raises(
                TipError, match=f"alumnus {who} is not a lost classmate of alumnus {tipster}"
            ),
        ):
            submit_tip(
                connection,
                tipster_id=tipster,
                lost_alumnus_id=who,
                kind="email",
                value="x@example.net",
                how_known="I know.",
                now=utcnow(),
            )


def test_the_officer_lists_verifies_and_rejects_tips_on_the_command_line(sqlite_url: str) -> None:
    _, lost, tip = drive(sqlite_url)
    second_tipster = add_alumnus(sqlite_url, "S", email="s@example.org")
    with write_transaction(engine_for(sqlite_url)) as connection:
        other = submit_tip(
            connection,
            tipster_id=second_tipster,
            lost_alumnus_id=lost,
            kind="phone",
            value="+44 20 7123 4567",
            how_known="Guessing.",
            now=utcnow(),
        )

    listed = json.loads(invoke("tips", "list", "--format", "json"))
    rejected = invoke(
        "tips",
        "reject",
        str(other),
        "--reason",
        "A guess is not enough.",
        "--as",
        "ines@school.example",
    )
    verified = invoke("tips", "verify", str(tip), "--as", "ines@school.example")
    again = runner.invoke(app, ["tips", "reject", str(tip), "--reason", "x", "--as", "a@b.example"])
    pending = json.loads(invoke("tips", "list", "--status", "pending", "--format", "json"))

    assert [(t["id"], t["status"], t["value"]) for t in listed] == [
        (tip, "pending", "bea@example.net"),
        (other, "pending", "+442071234567"),
    ]
    assert listed[0]["how_known"] == "We sing in the same choir."
    assert f"tip {other} rejected" in rejected
    assert "the consent question (campaign" in verified
    assert again.exit_code == 1 and f"tip {tip} was already verified" in again.output
    assert pending == []
    rejected_row = one(sqlite_url, ReachTip, id=other)
    assert (rejected_row.status, rejected_row.decision_reason) == (
        "rejected",
        "A guess is not enough.",
    )
    assert one(sqlite_url, Request, id=rejected_row.request_id).outcome == "declined"
    with engine_for(sqlite_url).connect() as connection:
        values = set(
            connection.execute(
                sa.select(table_of(ContactPoint).c.value).where(
                    table_of(ContactPoint).c.alumnus_id == lost
                )
            ).scalars()
        )
    assert values == {"old@dead.example", "bea@example.net"}  # the rejected phone is not used


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def test_the_found_alum_gets_one_message_the_consent_question(
    sqlite_url: str, smtp: Recorder
) -> None:
    _, lost, tip = drive(sqlite_url)
    with write_transaction(engine_for(sqlite_url)) as connection:
        done = verify_tip(
            connection, tip, officer="ines@school.example", now=utcnow(), options=OPTIONS
        )
    assert done.campaign_id is not None

    first = class_campaign(campaign_id=done.campaign_id, wait=False)
    second = class_campaign(campaign_id=done.campaign_id, wait=False)

    assert first["outcomes"] == {"sent": 1} and second["outcomes"] == {"sent": 1}
    (received,) = smtp.received
    assert list(received.rcpt_tos) == ["bea@example.net"]
    message = email.message_from_bytes(received.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Bea, would you like to hear from Alumni Office?"
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    assert CONSENT_LINK.search(str(body.get_content())) is not None
    with engine_for(sqlite_url).connect() as connection:
        consents = {
            (row.purpose, row.granted)
            for row in connection.execute(
                sa.select(table_of(Consent)).where(table_of(Consent).c.alumnus_id == lost)
            )
        }
    assert consents == {("news", False), ("events", False)}


def test_erasing_the_tipster_keeps_what_the_found_alum_now_holds(sqlite_url: str) -> None:
    from alumni.people.privacy import erase_alumnus

    tipster, lost, tip = drive(sqlite_url)
    with write_transaction(engine_for(sqlite_url)) as connection:
        done = verify_tip(
            connection, tip, officer="ines@school.example", now=utcnow(), options=OPTIONS
        )
    with write_transaction(engine_for(sqlite_url)) as connection:
        erase_alumnus(connection, alumnus_id=tipster, now=utcnow())

    with engine_for(sqlite_url).connect() as connection:
        tips = list(connection.execute(sa.select(table_of(ReachTip))))
    assert tips == []  # the tip was the tipster's words: gone with them
    assert one(sqlite_url, ContactPoint, id=done.contact_point_id).alumnus_id == lost


def test_a_tip_naming_an_erased_alums_address_is_not_stored(sqlite_url: str) -> None:
    from alumni.people.privacy import erase_alumnus

    gone = add_alumnus(sqlite_url, "G", email="bea@example.net", class_year=2001)
    with write_transaction(engine_for(sqlite_url)) as connection:
        erase_alumnus(connection, alumnus_id=gone, now=utcnow())
    _, lost, tip = drive(sqlite_url)  # the tip gives the erased alum's old address

    with (
        write_transaction(engine_for(sqlite_url)) as connection,
        pytest.raises(TipError, match=f"tip {tip} belonged to someone erased"),
    ):
        verify_tip(connection, tip, officer="ines@school.example", now=utcnow(), options=OPTIONS)

    assert one(sqlite_url, ReachTip, id=tip).status == "pending"
    assert one(sqlite_url, Alumnus, id=lost).status == "lost"
