"""The links to an alum's own pages (preferences, details, the request form): signed, scoped to
their page, expiring after 90 days, carrying the alumnus id and nothing else; in every message of
every shipped template (text and HTML), where they open that alum's pages in their language."""

from __future__ import annotations

import base64
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest

from alumni.db import engine_for
from alumni.delivery import ledger, planning
from alumni.delivery.sending import CampaignKit
from alumni.events.mailing_kit import EventKit
from alumni.events.mailings import KINDS, plan_mailing
from alumni.events.schedule import create_event
from alumni.messages.page_links import (
    DETAILS,
    PAGE_LINK_LIFETIME,
    PAGE_PATHS,
    PREFERENCES,
    REQUEST,
    page_link,
    page_linker,
    read_page_token,
)
from alumni.messages.signing import ExpiredToken, TamperedToken, make_token
from alumni.models import utcnow
from alumni.settings import Settings
from alumni.web.csrf import FORM_TOKEN_LIFETIME, form_token, form_token_ok
from tests.factories import add_alumnus, add_campaign

KEY = b"k" * 32
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
LINK = re.compile(r"https?://[^/\s\"]+/(preferences|details|requests/new)/([A-Za-z0-9_.-]+)")
PAGE_OF_PATH = {path: page for page, path in PAGE_PATHS.items()}
LOCALES = ("en", "es", "fr", "pt-BR")


def test_a_page_link_carries_only_the_alumnus_id_and_works_for_90_days() -> None:
    link = page_link(KEY, "https://alumni.school.example/", PREFERENCES, 4711, now=NOW)
    assert link.startswith("https://alumni.school.example/preferences/")
    token = link.rsplit("/", 1)[1]
    payload = token.split(".", 1)[0]
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == b"4711"
    last = NOW + PAGE_LINK_LIFETIME - timedelta(seconds=1)
    assert read_page_token(KEY, PREFERENCES, token, now=last) == 4711
    with pytest.raises(ExpiredToken) as expired:
        read_page_token(KEY, PREFERENCES, token, now=NOW + PAGE_LINK_LIFETIME)
    assert expired.value.payload == "4711"
    assert timedelta(days=90) == PAGE_LINK_LIFETIME
    with pytest.raises(TamperedToken):
        read_page_token(KEY, DETAILS, token, now=NOW)
    with pytest.raises(TamperedToken):
        read_page_token(KEY, PREFERENCES, make_token(KEY, PREFERENCES, "a@example.org"), now=NOW)
    with pytest.raises(ValueError, match="page 'unsubscribe' has no links"):
        page_link(KEY, "", "unsubscribe", 4711, now=NOW)


def test_a_page_linker_makes_what_page_link_makes_for_each_alum() -> None:
    link = page_linker(KEY, "https://alumni.school.example/", DETAILS, now=NOW)
    assert [link(n) for n in (1, 4711)] == [
        page_link(KEY, "https://alumni.school.example", DETAILS, n, now=NOW) for n in (1, 4711)
    ]
    assert read_page_token(KEY, DETAILS, link(4711).rsplit("/", 1)[1], now=NOW) == 4711
    with pytest.raises(ValueError, match="page 'unsubscribe' has no links"):
        page_linker(KEY, "", "unsubscribe", now=NOW)


def test_a_form_token_works_on_its_own_page_for_two_hours() -> None:
    token = form_token(KEY, PREFERENCES, "page-token", now=NOW)
    last = NOW + FORM_TOKEN_LIFETIME - timedelta(seconds=1)
    assert timedelta(hours=2) == FORM_TOKEN_LIFETIME
    assert form_token_ok(KEY, PREFERENCES, "page-token", token, now=last)
    assert form_token_ok(KEY, PREFERENCES, " page-token ", token, now=NOW)
    assert not form_token_ok(KEY, PREFERENCES, "page-token", token, now=NOW + FORM_TOKEN_LIFETIME)
    assert not form_token_ok(KEY, DETAILS, "page-token", token, now=NOW)
    assert not form_token_ok(KEY, PREFERENCES, "other-page-token", token, now=NOW)
    assert not form_token_ok(b"o" * 32, PREFERENCES, "page-token", token, now=NOW)
    assert not form_token_ok(KEY, PREFERENCES, "page-token", None, now=NOW)


def parts(data: bytes) -> tuple[str, str]:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def links_in(body: str) -> dict[str, str]:
    found = {PAGE_OF_PATH[path]: token for path, token in LINK.findall(body)}
    assert set(found) == {PREFERENCES, DETAILS, REQUEST}, body[-600:]
    return found


def test_every_campaign_message_carries_every_page_link_and_they_open_the_alums_pages(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    people = {
        add_alumnus(sqlite_url, f"L{n}", email=f"l{n}@example.org", locale=locale): locale
        for n, locale in enumerate(LOCALES)
    }
    engine = engine_for(sqlite_url)
    for template in ("reunion", "newsletter"):
        campaign = add_campaign(sqlite_url, template=template)
        planning.plan(engine, campaign, now=utcnow(), options=OPTIONS)
        rows = list(ledger.iter_unsent(engine, campaign))
        with engine.connect() as connection:
            kit = CampaignKit.build(
                connection,
                ledger.load_campaign(connection, campaign),
                settings=sqlite_settings,
                now=utcnow(),
            )
        assert len(rows) == len(people)
        for row in rows:
            text, html = parts(kit.compose(row, now=utcnow()).data)
            assert links_in(text) == links_in(html)
            for page, token in links_in(text).items():
                assert read_page_token(kit.key, page, token, now=utcnow()) == row.alumnus_id
                opened = sqlite_client.get(f"/{PAGE_PATHS[page]}/{token}")
                assert opened.status_code == 200
                assert f'<html lang="{people[row.alumnus_id]}">' in opened.text


def test_every_event_mailing_carries_every_page_link(
    sqlite_url: str, sqlite_settings: Settings
) -> None:
    for n, locale in enumerate(("en", "es")):
        add_alumnus(sqlite_url, f"E{n}", email=f"e{n}@example.org", locale=locale)
    engine = engine_for(sqlite_url)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Picnic",
        starts_at=utcnow() + timedelta(days=20),
        tz="Europe/London",
        place="The lawn",
        now=utcnow(),
    )
    plan = plan_mailing(engine, event_id, "invite", now=utcnow(), options=OPTIONS)
    rows = list(ledger.iter_unsent(engine, plan.campaign_id))
    assert len(rows) == 2
    with engine.connect() as connection:
        kit = EventKit.for_mailing(
            connection, plan.campaign_id, settings=sqlite_settings, now=utcnow()
        )
    for kind in KINDS:
        mailing = dataclasses.replace(kit, template=kind)
        for row in rows:
            email = mailing.store.render_email(
                kind, row.locale, mailing.context(row), family="invite"
            )
            assert email.locale == row.locale
            assert links_in(email.text) == links_in(email.html), kind
            for page, token in links_in(email.text).items():
                assert read_page_token(kit.key, page, token, now=utcnow()) == row.alumnus_id
    path = urlsplit(mailing.context(rows[0])["links"][PREFERENCES]).path
    assert path.startswith("/preferences/")
