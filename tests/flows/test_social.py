"""Social campaigns end to end: real Prefect (test harness), mastodon-mock, Bluesky's own PDS
(@atproto/dev-env) and a real HTTP webhook receiver.

Posting exactly once is checked against the real servers: a run repeated, a run that crashed
after posting but before recording (its lease runs out and the post is claimed again), and a
429 with Retry-After injected into mastodon-mock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger
from alumni.delivery.campaigns import SocialOptions, create
from alumni.messages.rendering import PreflightError
from alumni.models import Campaign, ClassChannel, SocialPost, table_of, utcnow
from alumni.settings import get_settings
from alumni.social import posts as social_posts
from alumni.social.accounts import class_channels, network_accounts
from connectors.social import Outcome
from flows.social import social_campaign
from tests.factories import add_alumnus, daytime_zone

if TYPE_CHECKING:
    from tests.social_servers import BlueskyPds, MastodonServer, WebhookReceiver

pytest_plugins = ("tests.social_servers",)
ROOT = Path(__file__).resolve().parents[2]
_P = table_of(SocialPost)


@pytest.fixture
def office(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
) -> Iterator[str]:
    """A class of 2016 with three alumni, an office where it is day, and the Prefect server."""
    yield from _office(sqlite_url, monkeypatch, prefect_api)


@pytest.fixture
def office_db(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
) -> Iterator[str]:
    """The same office on SQLite and on PostgreSQL."""
    yield from _office(db_url, monkeypatch, prefect_api)


def _office(url: str, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Iterator[str]:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", daytime_zone())
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    monkeypatch.setenv("ALUMNI_RETRY_DELAYS_SECONDS", "[1, 1, 1, 1]")
    for key in ("MASTODON_URL", "MASTODON_TOKEN", "BLUESKY_URL", "BLUESKY_HANDLE"):
        monkeypatch.delenv(f"ALUMNI_{key}", raising=False)
    monkeypatch.delenv("ALUMNI_BLUESKY_PASSWORD", raising=False)
    get_settings.cache_clear()
    for n, country in enumerate(["GB", "BR", "JP"]):
        add_alumnus(url, f"S{n}", class_year=2016, country=country)
    yield url
    get_settings.cache_clear()


def use_mastodon(monkeypatch: pytest.MonkeyPatch, server: MastodonServer) -> None:
    monkeypatch.setenv("ALUMNI_MASTODON_URL", server.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", server.token)
    get_settings.cache_clear()


def use_bluesky(monkeypatch: pytest.MonkeyPatch, pds: BlueskyPds) -> None:
    monkeypatch.setenv("ALUMNI_BLUESKY_URL", pds.url)
    monkeypatch.setenv("ALUMNI_BLUESKY_HANDLE", pds.handle)
    monkeypatch.setenv("ALUMNI_BLUESKY_PASSWORD", pds.app_password)
    get_settings.cache_clear()


def social(url: str, **options: Any) -> int:
    ((campaign_id, _),) = create(
        engine_for(url),
        name="Reunion 2026",
        class_years=[2016],
        template=options.pop("template", "reunion"),
        templates=ROOT / "templates",
        social=SocialOptions(**options),
    )
    return campaign_id


def posts(url: str, campaign_id: int) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(_P).where(_P.c.campaign_id == campaign_id).order_by(_P.c.id)
            )
        )


def mastodon_texts(server: MastodonServer) -> list[str]:
    return [str(s["content"]) for s in server.statuses()]


def bluesky_records(pds: BlueskyPds) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{pds.url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["records"])


def test_a_campaign_posts_once_to_mastodon_bluesky_and_the_class_chat(
    office: str,
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
    bluesky_pds: BlueskyPds,
    webhook_receiver: WebhookReceiver,
) -> None:
    use_mastodon(monkeypatch, mastodon)
    use_bluesky(monkeypatch, bluesky_pds)
    monkeypatch.setenv("ALUMNI_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    with write_transaction(engine_for(office)) as connection:
        connection.execute(
            sa.insert(table_of(ClassChannel)).values(
                class_year=2016,
                name="class slack",
                style="slack",
                url=webhook_receiver.url("/hook"),
                created_at=utcnow(),
            )
        )
    before_mastodon = len(mastodon.statuses())
    before_bluesky = len(bluesky_records(bluesky_pds))
    before_hooks = len(webhook_receiver.received)
    campaign_id = social(office, link="https://school.example/reunion-2026")

    report = social_campaign(campaign_id=campaign_id)

    assert report["status"] == "done"
    assert report["outcomes"] == {"sent": 3}
    rows = posts(office, campaign_id)
    assert {r.network for r in rows} == {"mastodon", "bluesky", "webhook"}
    # each network has exactly one new post, with the class hashtag and the tracked link
    statuses = mastodon.statuses()
    assert len(statuses) == before_mastodon + 1
    assert "Class2016" in statuses[0]["content"]  # the hashtag (Mastodon links it in its HTML)
    records = bluesky_records(bluesky_pds)
    assert len(records) == before_bluesky + 1
    record = next(r for r in records if r["uri"] == rows[1].remote_id)["value"]
    assert "https://alumni.school.example/l/" in record["text"]
    kinds = {f["features"][0]["$type"] for f in record["facets"]}
    assert {"app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"} <= kinds
    hooks = webhook_receiver.received[before_hooks:]
    assert len(hooks) == 1 and "#Class2016" in hooks[0].json()["text"]
    # the report lists each post with its link
    by_network = {p["network"]: p for p in report["posts"]}
    assert by_network["mastodon"]["url"] == statuses[0]["url"]
    assert by_network["bluesky"]["url"].startswith("https://bsky.app/profile/")
    assert all(p["posted_at"] for p in report["posts"])

    again = social_campaign(campaign_id=campaign_id)

    assert again["outcomes"] == {"sent": 3}
    assert len(mastodon.statuses()) == before_mastodon + 1
    assert len(bluesky_records(bluesky_pds)) == before_bluesky + 1
    assert len(webhook_receiver.received) == before_hooks + 1


def test_a_post_claimed_again_after_a_crash_stays_one_post(
    office_db: str,
    monkeypatch: pytest.MonkeyPatch,
    mastodon: MastodonServer,
    bluesky_pds: BlueskyPds,
) -> None:
    office = office_db
    use_mastodon(monkeypatch, mastodon)
    use_bluesky(monkeypatch, bluesky_pds)
    settings = get_settings()
    engine = engine_for(office)
    campaign_id = social(office)
    social_posts.plan_posts(
        engine, campaign_id, network_accounts(settings), settings=settings, now=utcnow()
    )
    before = (len(mastodon.statuses()), len(bluesky_records(bluesky_pds)))
    accounts = {a.name: a for a in network_accounts(settings)}
    lease = timedelta(seconds=settings.claim_lease_seconds)
    # the first worker marks each post handed, posts it, then dies before it records anything
    dead = social_posts.claim_posts(engine, campaign_id, worker="dead", now=utcnow(), lease=lease)
    for post in dead:
        ledger.mark_handed(engine, ledger.POSTS, [post.post_id], worker="dead", now=utcnow())
        client = accounts[post.account].open()
        assert social_posts.publish(client, post).outcome is Outcome.SENT
        client.close()
    # once the lease has lapsed, another worker takes the same posts over and posts them again
    later = utcnow() + lease + timedelta(seconds=1)
    again = social_posts.claim_posts(engine, campaign_id, worker="next", now=later, lease=lease)
    assert len(again) == 2
    for post in again:
        client = accounts[post.account].open()
        receipt = social_posts.publish(client, post)
        client.close()
        assert receipt.outcome is Outcome.SENT, receipt.reply
        ledger.record(
            engine,
            ledger.POSTS,
            [social_posts.result_of(post, receipt)],
            worker="next",
            now=later,
        )

    assert (len(mastodon.statuses()), len(bluesky_records(bluesky_pds))) == (
        before[0] + 1,
        before[1] + 1,
    )
    rows = posts(office, campaign_id)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert all(r.maybe_duplicate for r in rows)  # flagged: handed over, then taken over


def test_a_429_is_waited_out_and_the_post_goes_once(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    use_mastodon(monkeypatch, mastodon)
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "ratelimit", "headers": {"Retry-After": "1"}},
            "count": 1,
        }
    )
    before = len(mastodon.statuses())
    campaign_id = social(office)

    report = social_campaign(campaign_id=campaign_id)

    assert report["outcomes"] == {"sent": 1}
    assert len(mastodon.statuses()) == before + 1
    (row,) = posts(office, campaign_id)
    assert row.attempts == 2 and row.error is None
    assert report["late"] == []


def test_a_rate_limit_past_the_window_is_named_in_the_report(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    use_mastodon(monkeypatch, mastodon)
    mastodon.add_fault(
        {
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "ratelimit", "headers": {"Retry-After": str(3 * 3600)}},
            "count": 1,
        }
    )
    before = len(mastodon.statuses())
    campaign_id = social(office, window_hours=1)

    report = social_campaign(campaign_id=campaign_id)

    assert report["outcomes"] == {"pending": 1}
    assert report["status"] == "sending"
    assert len(mastodon.statuses()) == before
    (late,) = report["late"]
    assert "mastodon post" in late and "cannot go out before the window closes" in late
    assert "429" in late


def test_a_post_over_the_limit_stops_the_campaign_before_anything_is_posted(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer, tmp_path: Path
) -> None:
    use_mastodon(monkeypatch, mastodon)
    folder = tmp_path / "templates" / "social" / "long"
    folder.mkdir(parents=True)
    (folder / "en.txt.j2").write_text("Class of {{ class.year }}: " + "é" * 490)
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(tmp_path / "templates"))
    get_settings.cache_clear()
    before = len(mastodon.statuses())
    ((campaign_id, _),) = create(
        engine_for(office),
        name="too long",
        class_years=[2016],
        template="long",
        templates=tmp_path / "templates",
        social=SocialOptions(),
    )

    with pytest.raises(PreflightError) as caught:
        social_campaign(campaign_id=campaign_id)

    assert "Mastodon post is 505 characters long" in str(caught.value)
    assert "shorten it by 5" in str(caught.value)
    assert posts(office, campaign_id) == []
    assert len(mastodon.statuses()) == before
    with engine_for(office).connect() as connection:
        campaign = connection.execute(
            sa.select(table_of(Campaign)).where(table_of(Campaign).c.id == campaign_id)
        ).one()
    assert campaign.status == "stopped" and "505 characters" in campaign.note

    # fixed, but stopped is stopped: a plain run posts nothing (it used to post it all)
    (folder / "en.txt.j2").write_text("Class of {{ class.year }}: see you in June")
    refused = social_campaign(campaign_id=campaign_id, return_state=True)
    assert refused.is_failed() and f"resume {campaign_id}" in (refused.message or "")
    assert posts(office, campaign_id) == [] and len(mastodon.statuses()) == before
    # resumed: the posts are rendered again, pass, and go out once
    resumed = social_campaign(campaign_id=campaign_id, resume=True)
    assert resumed["outcomes"] == {"sent": 1} and len(mastodon.statuses()) == before + 1


def test_a_half_configured_account_names_what_is_missing(
    office: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_BLUESKY_URL", "https://bsky.example")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="ALUMNI_BLUESKY_HANDLE, ALUMNI_BLUESKY_PASSWORD"):
        network_accounts(get_settings())


def test_the_account_secret_can_come_from_a_prefect_secret_block(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    from prefect.blocks.system import Secret

    from flows.social import prefect_secret

    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon.url)
    get_settings.cache_clear()
    Secret(value=mastodon.token).save("alumni-mastodon-token", overwrite=True)
    try:
        (account,) = network_accounts(get_settings(), prefect_secret)
        client = account.open()
        try:
            assert client.verify()
        finally:
            client.close()
        assert mastodon.token not in repr(account)
    finally:
        Secret(value="gone").save("alumni-mastodon-token", overwrite=True)
    assert prefect_secret("alumni-no-such-block") is None


def test_due_campaigns_posts_what_has_come_due(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    from flows.due_campaigns import due_campaigns

    use_mastodon(monkeypatch, mastodon)
    settings = get_settings()
    campaign_id = social(office)
    social_posts.plan_posts(
        engine_for(office), campaign_id, network_accounts(settings), settings=settings, now=utcnow()
    )
    before = len(mastodon.statuses())

    runs = due_campaigns()

    assert runs[campaign_id]["outcomes"] == {"sent": 1}
    assert len(mastodon.statuses()) == before + 1
    assert campaign_id not in due_campaigns()


def test_a_mention_in_a_bluesky_post_becomes_a_mention_facet_with_the_did(
    office: str, monkeypatch: pytest.MonkeyPatch, bluesky_pds: BlueskyPds, tmp_path: Path
) -> None:
    use_bluesky(monkeypatch, bluesky_pds)
    folder = tmp_path / "templates" / "social" / "thanks"
    folder.mkdir(parents=True)
    text = (
        f"Thank you @{bluesky_pds.spare_handle} and @nobody.invalid for the photos! "
        "{{ class.hashtag }}"
    )
    (folder / "en.txt.j2").write_text(text)
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(tmp_path / "templates"))
    get_settings.cache_clear()
    ((campaign_id, _),) = create(
        engine_for(office),
        name="thanks",
        class_years=[2016],
        template="thanks",
        templates=tmp_path / "templates",
        social=SocialOptions(),
    )

    assert social_campaign(campaign_id=campaign_id)["outcomes"] == {"sent": 1}

    (row,) = posts(office, campaign_id)
    record = next(r for r in bluesky_records(bluesky_pds) if r["uri"] == row.remote_id)["value"]
    mentions = [
        f["features"][0]["did"]
        for f in record["facets"]
        if f["features"][0]["$type"] == "app.bsky.richtext.facet#mention"
    ]
    spare_did = httpx.get(
        f"{bluesky_pds.url}/xrpc/com.atproto.identity.resolveHandle",
        params={"handle": bluesky_pds.spare_handle},
        timeout=10,
    ).json()["did"]
    assert mentions == [spare_did]  # the unknown handle stays plain text
    tags = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#tag")]
    assert [t["features"][0]["tag"] for t in tags] == ["Class2016"]


def test_a_post_whose_account_is_gone_waits_on_the_back_off_and_then_fails(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    use_mastodon(monkeypatch, mastodon)
    engine = engine_for(office)
    channels = table_of(ClassChannel)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.insert(channels).values(
                class_year=2016,
                name="class chat",
                style="generic",
                url="https://hooks.school.example/class-2016",
                created_at=utcnow(),
            )
        )
    campaign_id = social(office)
    settings = get_settings()
    with engine.connect() as connection:
        accounts = network_accounts(settings) + class_channels(connection, 2016)
    social_posts.plan_posts(engine, campaign_id, accounts, settings=settings, now=utcnow())
    with write_transaction(engine) as connection:  # the officer removes the channel
        connection.execute(sa.delete(channels))

    report = social_campaign(campaign_id=campaign_id)  # waits, but not for ever

    assert report["outcomes"] == {"sent": 1, "failed": 1}
    gone = next(p for p in posts(office, campaign_id) if p.network == "webhook")
    assert gone.attempts == ledger.MAX_ATTEMPTS
    assert "is no longer configured" in gone.error


def test_a_token_the_network_refuses_stops_the_run_at_once_and_spends_no_post(
    office: str, monkeypatch: pytest.MonkeyPatch, mastodon: MastodonServer
) -> None:
    """A wrong token is said at once, in the run's state, and not spent on the posts: once it
    is fixed, the next run posts each once."""
    use_mastodon(monkeypatch, mastodon)
    campaign_id = social(office)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", "not-the-token")
    get_settings.cache_clear()
    before = len(mastodon.statuses())

    refused = social_campaign(campaign_id=campaign_id, return_state=True)

    assert refused.is_failed() and refused.name == "Misconfigured"
    assert "Mastodon" in (refused.message or "") and "not-the-token" not in (refused.message or "")
    assert [(p.status, p.attempts) for p in posts(office, campaign_id)] == [("pending", 0)]
    with engine_for(office).connect() as connection:
        note = ledger.load_campaign(connection, campaign_id).note
    assert note is not None and note.startswith("the last run stopped: ")
    assert len(mastodon.statuses()) == before

    use_mastodon(monkeypatch, mastodon)
    report = social_campaign(campaign_id=campaign_id)

    assert report["outcomes"] == {"sent": 1}
    assert len(mastodon.statuses()) == before + 1
