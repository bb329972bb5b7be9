"""The monthly ambassador digest end to end: the real flow on the session's Prefect test server,
real SMTP (aiosmtpd), the real planner and ledger; on both databases."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.messages.ambassador_links import read_ambassador_token
from alumni.messages.page_links import TIP, read_page_token
from alumni.models import Delivery, Event, table_of, utcnow
from alumni.reach import ambassadors, ideas
from alumni.settings import get_settings
from flows.ambassadors import ambassador_digest
from tests.factories import add_alumnus, daytime_zone
from tests.smtp_server import Recorder, Serve


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def messages(handler: Recorder) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for message in handler.received:
        parsed = email.message_from_bytes(message.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        (rcpt,) = message.rcpt_tos
        found[rcpt] = parsed
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    content: Any = body.get_content()
    return str(content)


def alum(url: str, external_id: str, class_year: int, first: str, last: str, **more: Any) -> int:
    return add_alumnus(
        url,
        external_id,
        class_year=class_year,
        first_name=first,
        last_name=last,
        timezone=daytime_zone(),
        **more,
    )


def test_each_ambassador_gets_their_own_class_digest_once(db_url: str, smtp: Recorder) -> None:
    alum(db_url, "A1", 2016, "Ana", "Lima", email="ana@example.org", locale="es")
    alum(db_url, "A2", 2016, "Ben", "Okafor", email="ben@example.org", locale="en")
    alum(db_url, "A3", 2016, "Rui", "Lost")  # no working channel
    alum(db_url, "A4", 2016, "Eva", "Quiet", email="eva.secret@example.org")
    alum(db_url, "B1", 2015, "Bo", "Berg", email="bo@example.org", locale="en")
    alum(db_url, "B2", 2015, "Zed", "Gone")
    alum(db_url, "C1", 2017, "Cy", "Nobody", email="cy@example.org")  # a class without any
    engine = engine_for(db_url)
    starts = utcnow() + timedelta(days=30)
    with write_transaction(engine) as connection:
        roles = {
            external_id: ambassadors.add_ambassador(connection, external_id, now=utcnow())
            for external_id in ("A1", "A2", "B1")
        }
        ana = ambassadors.identity_of(connection, roles["A1"])
        assert ana is not None
        ideas.propose(connection, ana, kind="idea", text="A mentoring circle", now=utcnow())
        connection.execute(
            sa.insert(table_of(Event)).values(
                uid="picnic@test",
                class_year=2016,
                title="Picnic of 2016",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                timezone="Europe/Madrid",
                status="scheduled",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )

    state = ambassador_digest(return_state=True)
    assert state.is_completed(), state.message
    assert "3 sent to the ambassadors of 2 class(es)" in str(state.message)
    sent = messages(smtp)
    assert sorted(sent) == ["ana@example.org", "ben@example.org", "bo@example.org"]
    key = get_settings().signing_key()
    for rcpt, external_id, year in (
        ("ana@example.org", "A1", 2016),
        ("bo@example.org", "B1", 2015),
    ):
        text = text_of(sent[rcpt])
        found = re.search(r"https://alumni\.school\.example/ambassador/(\S+)", text)
        assert found is not None, text
        assert read_ambassador_token(key, found[1], now=utcnow()) == roles[external_id]
        tip = re.search(r"https://alumni\.school\.example/tip/(\S+)", text)
        assert tip is not None, text  # their own tip form, for the lost classmates
        with engine_for(db_url).connect() as connection:
            sharer = ambassadors.find_alumnus(connection, external_id)
        assert read_page_token(key, TIP, tip[1], now=utcnow()) == sharer
        assert "@example.org" not in text.replace(rcpt, "")  # nobody's address
        assert str(year) in sent[rcpt]["Subject"]
    spanish = text_of(sent["ana@example.org"])
    assert "Hola, Ana:" in spanish and "Rui Lost" in spanish and "Picnic of 2016" in spanish
    assert "A mentoring circle" in spanish
    assert "Podemos contactar a 3 de 4 compañeros" in spanish
    assert "En los últimos 12 meses, 1 supieron de nosotros" in spanish  # Ana, by her idea
    assert "Zed" not in spanish and "Rui" not in text_of(sent["bo@example.org"])
    assert "Zed Gone" in text_of(sent["bo@example.org"])
    assert "A mentoring circle" not in text_of(sent["bo@example.org"])

    # a rerun this month: the same campaigns, nothing sent twice
    again = ambassador_digest(return_state=True)
    assert again.is_completed(), again.message
    assert len(smtp.received) == 3
    with engine.connect() as connection:
        counted = connection.execute(
            sa.select(sa.func.count()).select_from(table_of(Delivery))
        ).scalar_one()
    assert counted == 3 + 1  # the three digests and the idea's acknowledgement


def test_a_bad_month_is_refused_naming_it(sqlite_url: str) -> None:
    from alumni.reach.ambassador_digest import digest_month

    with pytest.raises(ValueError, match="'2026-13' is not a month"):
        digest_month("2026-13", now=utcnow())
    assert digest_month(None, now=utcnow()) == f"{utcnow():%Y-%m}"


def test_the_campaign_flow_refuses_a_draft_until_an_officer_approves_it(
    db_url: str, smtp: Recorder
) -> None:
    from alumni.messages.rendering import TemplateStore
    from alumni.reach import drafts
    from flows.campaign import class_campaign

    alum(db_url, "A1", 2016, "Ana", "Lima", email="ana@example.org")
    alum(db_url, "A2", 2016, "Ben", "Okafor", email="ben@example.org")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        role = ambassadors.add_ambassador(connection, "A1", now=utcnow())
        ana = ambassadors.identity_of(connection, role)
        assert ana is not None
        campaign_id = drafts.draft_campaign(
            connection,
            ana,
            name="Our news",
            template="newsletter",
            send_at=None,
            send_on=None,
            store=TemplateStore(get_settings().templates_dir),
            office_timezone="UTC",
            now=utcnow(),
        )
    refused = class_campaign(campaign_id=campaign_id, wait=False, return_state=True)
    assert refused.is_failed()
    assert smtp.received == []
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(Delivery))
            ).scalar_one()
            == 0
        )
        drafts.approve(connection, campaign_id, officer="ola@school.example.org", now=utcnow())
        connection.commit()
    sent = class_campaign(campaign_id=campaign_id, wait=False, return_state=True)
    assert sent.is_completed(), sent.message
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == ["ana@example.org", "ben@example.org"]


def test_a_confirmation_that_could_not_go_at_once_goes_with_the_next_run_once(
    db_url: str, smtp: Recorder
) -> None:
    from alumni.reach.referrals import sign_up
    from alumni.reach.share import share_link_id
    from flows.ambassadors import signup_confirmations

    sharer = alum(db_url, "A1", 2016, "Ana", "Lima", email="ana@example.org")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        link = share_link_id(connection, sharer, 2016, now=utcnow())
        sign_up(
            connection,
            share_link=link,
            first_name="Mo",
            last_name="Reis",
            class_year="2016",
            email="mo@example.org",
            consent=False,
            locale="pt-BR",
            now=utcnow(),
            message_id_domain="school.example",
            key=get_settings().signing_key(),
        )
    first = signup_confirmations(return_state=True)
    assert first.is_completed() and "1 sent" in str(first.message)
    again = signup_confirmations(return_state=True)
    assert again.is_completed() and "none due" in str(again.message)
    assert [m.rcpt_tos for m in smtp.received] == [("mo@example.org",)]


def test_a_sign_up_nobody_confirmed_is_removed_once_its_link_has_expired(
    db_url: str, smtp: Recorder
) -> None:
    from alumni.models import Signup
    from alumni.reach.referrals import CONFIRM_LIFETIME, purge_unconfirmed, sign_up
    from alumni.reach.share import share_link_id
    from flows.ambassadors import signup_confirmations

    sharer = alum(db_url, "A1", 2016, "Ana", "Lima", email="ana@example.org")
    engine = engine_for(db_url)
    made = utcnow()

    def signed_up(address: str, at: datetime) -> int:
        with write_transaction(engine) as connection:
            link = share_link_id(connection, sharer, 2016, now=at)
            return sign_up(
                connection,
                share_link=link,
                first_name="Mo",
                last_name="Reis",
                class_year="2016",
                email=address,
                consent=False,
                locale=None,
                now=at,
                message_id_domain="school.example",
                key=get_settings().signing_key(),
            )

    old = signed_up("mo@example.org", made - CONFIRM_LIFETIME - timedelta(days=2))
    confirmed = signed_up("al@example.org", made - CONFIRM_LIFETIME - timedelta(days=2))
    recent = signed_up("jo@example.org", made - CONFIRM_LIFETIME)
    with write_transaction(engine) as connection:  # sent when made; one was confirmed
        su = table_of(Signup)
        connection.execute(sa.update(su).values(status="sent", sent_at=su.c.created_at))
        connection.execute(sa.update(su).where(su.c.id == confirmed).values(alumnus_id=sharer))

    def left() -> set[int]:
        with engine.connect() as connection:
            return set(connection.execute(sa.select(table_of(Signup).c.id)).scalars())

    # its link works for a week and a day's grace follows: kept until then
    assert purge_unconfirmed(engine, now=made - timedelta(days=2)) == 0
    assert left() == {old, confirmed, recent}
    assert purge_unconfirmed(engine, now=made) == 1
    assert left() == {confirmed, recent}

    signed_up("mo@example.org", made)  # the same address may sign up again
    with write_transaction(engine) as connection:  # the week is over for the other
        connection.execute(
            sa.update(su).where(su.c.id == recent).values(sent_at=made - timedelta(days=9))
        )
    later = signup_confirmations(return_state=True)
    assert later.is_completed()
    assert str(later.message) == "sign-up confirmations: 1 sent; 1 never confirmed, removed"
    assert [m.rcpt_tos for m in smtp.received] == [("mo@example.org",)]
    assert recent not in left() and confirmed in left()
