"""`publish` through the one `SocialNetwork` protocol, to each real peer: mastodon-mock, Bluesky's
own PDS and a local webhook receiver. The accounts are opened as the flows open them (from
settings and a class channel row), and `publish` is given nothing but the opened connector."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from alumni.models import ClassChannel
from alumni.settings import Settings
from alumni.social.accounts import Account, channel_account, network_accounts
from alumni.social.posts import ClaimedPost, publish
from connectors.social import Outcome, SocialNetwork, SocialPost, open_social_network

if TYPE_CHECKING:
    from tests.social_servers import BlueskyPds, MastodonServer, WebhookReceiver


def _accounts(
    mastodon: MastodonServer, pds: BlueskyPds, receiver: WebhookReceiver
) -> dict[str, Account]:
    settings = Settings(
        mastodon_url=mastodon.url,
        mastodon_token=mastodon.token,
        bluesky_url=pds.url,
        bluesky_handle=pds.handle,
        bluesky_password=pds.app_password,
    )
    channel = ClassChannel(
        id=7, class_year=2016, name="class slack", style="slack", url=receiver.url("/hook")
    )
    return {a.network: a for a in [*network_accounts(settings), channel_account(channel)]}


def _claimed(account: Account, text: str) -> ClaimedPost:
    return ClaimedPost(
        post_id=1,
        account=account.name,
        network=account.network,
        locale="en",
        text=text,
        key=f"alumni-{uuid.uuid4().hex}",
        composed_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        attempts=1,
    )


def _bluesky_records(pds: BlueskyPds, text: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{pds.url}/xrpc/com.atproto.repo.listRecords",
        params={"repo": pds.did, "collection": "app.bsky.feed.post", "limit": 100},
        timeout=10,
    )
    response.raise_for_status()
    return [r for r in response.json()["records"] if r["value"]["text"] == text]


def test_publish_posts_to_all_three_networks_through_the_protocol(
    mastodon: MastodonServer, bluesky_pds: BlueskyPds, webhook_receiver: WebhookReceiver
) -> None:
    accounts = _accounts(mastodon, bluesky_pds, webhook_receiver)
    assert sorted(accounts) == ["bluesky", "mastodon", "webhook"]
    marker = uuid.uuid4().hex
    text = f"Class of 2016: reunion on 18 Oct https://school.example/r #Class2016 {marker}"
    hooks_before = len(webhook_receiver.received)
    posts = {network: _claimed(account, text) for network, account in accounts.items()}
    for network, account in accounts.items():
        client: SocialNetwork = account.open(allow_private=True)
        with client:
            assert client.verify()
            first = publish(client, posts[network])
            again = publish(client, posts[network])  # the same row again: same key
        assert first.outcome is again.outcome is Outcome.SENT, (network, first.reply, again.reply)
        assert first.key == posts[network].key

    # Mastodon and Bluesky keep one post for the key; Bluesky's carries the facets its
    # connector built (link and tag), with the row's composed_at as its time.
    assert len([s for s in mastodon.statuses() if marker in s["content"]]) == 1
    [record] = _bluesky_records(bluesky_pds, text)
    value = record["value"]
    assert value["createdAt"] == "2026-05-01T09:30:00.000Z"
    assert [f["features"][0]["$type"] for f in value["facets"]] == [
        "app.bsky.richtext.facet#link",
        "app.bsky.richtext.facet#tag",
    ]
    # A webhook has no such promise: both went, each with the row's key for a receiver to use.
    hooks = webhook_receiver.received[hooks_before:]
    assert [h.json()["text"] for h in hooks] == [text, text]
    assert {h.headers["Idempotency-Key"] for h in hooks} == {posts["webhook"].key}


def test_reading_engagement_needs_no_knowledge_of_the_network(
    mastodon: MastodonServer, webhook_receiver: WebhookReceiver
) -> None:
    text = f"Engagement please {uuid.uuid4().hex}"
    networks: list[SocialNetwork] = [
        open_social_network("mastodon", mastodon.url, secret=mastodon.token),
        open_social_network(
            "webhook", webhook_receiver.url("/hook"), style="generic", allow_private=True
        ),
    ]
    read: dict[str, int | None] = {}
    for network in networks:
        with network:
            receipt = network.post(SocialPost(f"alumni-{uuid.uuid4().hex}", text))
            assert receipt.outcome is Outcome.SENT, receipt.reply
            engagement = network.engagement(receipt.remote_id or "")
            read[network.name] = None if engagement is None else engagement.likes
    assert read == {"mastodon": 0, "webhook": None}


def test_the_factory_names_an_unknown_network_and_a_bad_style() -> None:
    with pytest.raises(ValueError, match="'myspace' is not one of mastodon, bluesky, webhook"):
        open_social_network("myspace", "https://myspace.example")
    with pytest.raises(ValueError, match="webhook style 'irc'"):
        open_social_network("webhook", "https://hooks.example/x", style="irc")
