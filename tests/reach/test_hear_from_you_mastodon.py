"""Hear from you on Mastodon: an alum with no working email but a Mastodon handle gets the
message as one direct message, through the ledger, within their consent for that channel; on
SQLite and PostgreSQL, against a real mastodon-mock whose alumni accounts read what reached
them (``mastodon_alumni``)."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger
from alumni.delivery.batches import lease_of
from alumni.messages.rendering import PreflightError, TemplateStore
from alumni.models import Campaign, Consent, ContactPoint, Delivery, Frequency, table_of, utcnow
from alumni.people.preferences import Choice, save_choice
from alumni.reach.coverage import WINDOW, reached_since
from alumni.reach.hear_from_you import counts_by_channel, plan_direct, plan_hear_from_you
from alumni.reach.priority import plan_options
from alumni.settings import Settings, get_settings
from alumni.social import direct
from alumni.social.accounts import network_accounts
from connectors.social import direct_messaging
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, daytime_zone, deliveries

if TYPE_CHECKING:
    from tests.social_servers import MastodonServer

pytest_plugins = ("tests.social_servers",)


@pytest.fixture
def office(
    db_url: str, mastodon_alumni: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The office's Mastodon account is the social settings' one, on the seeded mock."""
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon_alumni.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon_alumni.token)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def add_handle(url: str, alumnus_id: int, handle: str) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id,
                kind="mastodon",
                value=handle,
                source="test",
                status="ok",
                created_at=utcnow(),
            )
        )


def add_consent(url: str, alumnus_id: int, *, channel: str, granted: bool) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(Consent)).values(
                alumnus_id=alumnus_id,
                purpose="news",
                channel=channel,
                granted=granted,
                evidence="test",
                at=utcnow(),
            )
        )


def outcomes(url: str, campaign_id: int) -> dict[int, str]:
    return {row.alumnus_id: row.skip_reason or row.status for row in deliveries(url, campaign_id)}


def reached_by(server: MastodonServer, account: str, marker: str) -> list[dict[str, Any]]:
    """The direct messages ``account`` of the mock received that carry ``marker``."""
    return [
        c["last_status"]
        for c in server.conversations(f"{account}_token")
        if marker in c["last_status"]["content"]
    ]


def send_all(url: str, campaign_id: int, settings: Settings, worker: str = "w1") -> dict[str, int]:
    direct.preflight(engine_for(url), campaign_id, settings=settings)
    return direct.send_batch(
        engine_for(url),
        campaign_id,
        lambda: network_accounts(settings),
        worker=worker,
        settings=settings,
    )


def test_no_working_email_and_a_handle_gets_one_direct_message_within_consent(
    db_url: str, office: Settings, mastodon_alumni: MastodonServer
) -> None:
    home, zone, now = mastodon_alumni.home, daytime_zone(), utcnow()
    marker = uuid.uuid4().hex[:8]  # in each first name: this test's messages, on a shared mock

    def alum(code: str, handle: str | None, **values: Any) -> int:
        alumnus_id = add_alumnus(
            db_url, code, first_name=f"{code}-{marker}", timezone=zone, **values
        )
        if handle:
            add_handle(db_url, alumnus_id, f"@{handle}@{home}")
        return alumnus_id

    bouncing = alum("B", "ana", email="b@example.org", email_status="bouncing", locale="ar")
    refused = alum("R", "bea", email="r@example.org", email_status="bouncing")
    add_consent(db_url, refused, channel="any", granted=False)
    social_no = alum("S", "carla")  # said no to news on social networks, not to email
    add_consent(db_url, social_no, channel="social", granted=False)
    email_no = alum("E", "dana")  # said no to news by email only: the channel column holds
    add_consent(db_url, email_no, channel="email", granted=False)
    emailed = alum("W", "eli", email="w@example.org")
    recent = alum("N", "farid")
    add_sent_delivery(db_url, add_campaign(db_url), recent, sent_at=now - timedelta(days=3))
    engine, options = engine_for(db_url), plan_options(office)

    email_campaign = plan_hear_from_you(engine, 2016, now=now, options=options)
    networks = direct.direct_networks(network_accounts(office))
    (dm_campaign,) = plan_direct(engine, 2016, now=now, options=options, networks=networks)

    assert networks == ["mastodon"]
    assert email_campaign is not None
    assert outcomes(db_url, email_campaign) == {
        bouncing: "no_email",
        refused: "no_email",
        social_no: "no_email",
        email_no: "no_email",
        emailed: "pending",  # a working email: email only
    }
    assert outcomes(db_url, dm_campaign) == {
        bouncing: "pending",
        refused: "no_consent",
        social_no: "no_consent",
        email_no: "pending",
    }
    rows = {r.alumnus_id: r for r in deliveries(db_url, dm_campaign)}
    assert (rows[bouncing].channel, rows[bouncing].address) == ("mastodon", f"@ana@{home}")

    assert send_all(db_url, dm_campaign, office) == {"claimed": 2, "sent": 2}

    (got,) = reached_by(mastodon_alumni, "ana", marker)
    assert got["visibility"] == "direct" and got["language"] == "ar"
    assert "نودّ أن نسمع منك" in got["content"]  # the Arabic text, the alum's language
    assert [m["acct"] for m in got["mentions"]] == [f"ana@{home}"]
    assert len(reached_by(mastodon_alumni, "dana", marker)) == 1
    for nobody in ("bea", "carla", "eli", "farid"):
        assert reached_by(mastodon_alumni, nobody, marker) == []

    # a delivered direct message counts as reached in the coverage
    with engine.connect() as connection:
        assert set(reached_since(connection, now - WINDOW, among=[bouncing, refused])) == {bouncing}
        counts = {c.channel: c.outcomes for c in counts_by_channel(connection, year=now.year)}
    assert counts["mastodon"] == {"sent": 2, "skipped:no_consent": 2}
    assert counts["email"]["pending"] == 1

    # the same month again: nobody new, nothing sent twice
    assert plan_hear_from_you(engine, 2016, now=now, options=options) is None
    assert plan_direct(engine, 2016, now=now, options=options, networks=networks) == []
    assert send_all(db_url, dm_campaign, office) == {"claimed": 0}
    assert len(reached_by(mastodon_alumni, "ana", marker)) == 1


def test_a_message_in_flight_at_a_crash_is_flagged_and_stays_one_on_mastodon(
    db_url: str, office: Settings, mastodon_alumni: MastodonServer
) -> None:
    marker = uuid.uuid4().hex[:8]
    alumnus_id = add_alumnus(
        db_url,
        "C",
        first_name=f"C-{marker}",
        timezone=daytime_zone(),
        email="c@example.org",
        email_status="bouncing",
    )
    add_handle(db_url, alumnus_id, f"@ana@{mastodon_alumni.home}")
    engine, now, options = engine_for(db_url), utcnow(), plan_options(office)
    plan_hear_from_you(engine, 2016, now=now, options=options)
    (campaign_id,) = plan_direct(engine, 2016, now=now, options=options, networks=["mastodon"])
    direct.preflight(engine, campaign_id, settings=office)
    lease = lease_of(office)  # the shipped lease

    # a worker claims, hands the message to Mastodon, and dies before recording it
    (row,) = ledger.claim(engine, campaign_id, worker="dead", limit=10, now=now, lease=lease)
    assert ledger.mark_handed(engine, ledger.DELIVERIES, [row.delivery_id], worker="dead", now=now)
    with engine.connect() as connection:
        kit = direct.DirectKit(ledger.load_campaign(connection, campaign_id), office)
    (account,) = network_accounts(office)
    client = account.open()
    messaging = direct_messaging(client)
    assert messaging is not None
    assert messaging.send_direct(kit.message(row)).remote_id
    client.close()
    # its lease lapses (the time a live worker would have renewed it is past)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(table_of(Delivery))
            .where(table_of(Delivery).c.id == row.delivery_id)
            .values(claimed_at=now - 2 * lease)
        )

    assert send_all(db_url, campaign_id, office, worker="w2") == {"claimed": 1, "sent": 1}

    (after,) = deliveries(db_url, campaign_id)
    assert after.status == "sent" and after.maybe_duplicate  # flagged like every channel
    assert len(reached_by(mastodon_alumni, "ana", marker)) == 1  # the same key: one message


def test_a_message_over_mastodon_s_length_stops_the_campaign_before_anything_goes(
    db_url: str, office: Settings, mastodon_alumni: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = uuid.uuid4().hex[:8]
    monkeypatch.setenv("ALUMNI_OFFICE_NAME", f"Office of {'very ' * 60}long name")
    get_settings.cache_clear()
    office = get_settings()
    alumnus_id = add_alumnus(db_url, "L", first_name=f"L-{marker}", timezone=daytime_zone())
    add_handle(db_url, alumnus_id, f"@bea@{mastodon_alumni.home}")
    engine, now, options = engine_for(db_url), utcnow(), plan_options(office)
    plan_hear_from_you(engine, 2016, now=now, options=options)
    (campaign_id,) = plan_direct(engine, 2016, now=now, options=options, networks=["mastodon"])

    with pytest.raises(PreflightError) as stopped:
        direct.preflight(engine, campaign_id, settings=office)

    ((ref, error),) = stopped.value.failures
    assert f"@bea@{mastodon_alumni.home}" in ref
    assert "Mastodon post is" in error.message and "the limit is 500" in error.message
    with engine.connect() as connection:
        campaign = connection.execute(
            sa.select(table_of(Campaign)).where(table_of(Campaign).c.id == campaign_id)
        ).one()
    assert campaign.status == "stopped"
    assert reached_by(mastodon_alumni, "bea", marker) == []


ROOT = Path(__file__).resolve().parents[2]


def test_every_language_of_the_email_has_the_direct_message_within_mastodon_s_length() -> None:
    settings = Settings(templates_dir=ROOT / "templates")
    store = TemplateStore(ROOT / "templates")
    email = {p.name.split(".")[0] for p in (ROOT / "templates/email/hear_from_you").glob("*.j2")}
    assert set(store.post_locales("hear_from_you").values()) == email
    kit = direct.DirectKit(SimpleNamespace(channel="mastodon", template="hear_from_you"), settings)
    for locale in sorted(email):
        row = ledger.Claimed(
            delivery_id=1,
            alumnus_id=1,
            address="@a_rather_long_user_name_of_30c@a.long.mastodon.server.example",
            message_id="<key@school.example>",
            locale=locale,
            first_name="Maria Fernanda Conceição de Albuquerque e Vasconcelos",
            last_name="Lima",
            class_year=2016,
            programme=None,
            city=None,
            country=None,
            attempts=0,
        )
        message = kit.message(row)  # raises RenderError when over Mastodon's 500
        assert message.language == locale
        assert "2016" in message.text and settings.office_name in message.text
        assert message.addressed_text.startswith(f"{row.address} ")
    arabic = kit.message(replace(row, locale="ar-EG")).text
    assert unicodedata.bidirectional(arabic[0]) == "AL"  # right to left, from the first letter


def test_the_preference_page_s_channels_govern_the_direct_message(
    db_url: str, office: Settings, mastodon_alumni: MastodonServer
) -> None:
    """An alum who chose only email on their preference page gets no direct message; one who
    ticked Mastodon, or never chose, does."""
    engine, now, options = engine_for(db_url), utcnow(), plan_options(office)
    people = {}
    for code, channels in (("M", {"email", "mastodon"}), ("O", {"email"}), ("X", None)):
        people[code] = add_alumnus(db_url, code, timezone=daytime_zone())
        add_handle(db_url, people[code], f"@eli@{mastodon_alumni.home}")
        if channels is not None:
            with write_transaction(engine) as connection:
                save_choice(
                    connection,
                    people[code],
                    Choice(frozenset(channels), Frequency.every, None),
                    now=now,
                )
    plan_hear_from_you(engine, 2016, now=now, options=options)

    (campaign_id,) = plan_direct(engine, 2016, now=now, options=options, networks=["mastodon"])

    assert outcomes(db_url, campaign_id) == {
        people["M"]: "pending",
        people["O"]: "channel_off",
        people["X"]: "pending",
    }
