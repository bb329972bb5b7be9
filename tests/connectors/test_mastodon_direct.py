"""Direct messages: Mastodon offers them (a direct status that mentions the account), Bluesky
and webhooks do not, and a caller learns which by asking the capability.

Against `mastodon_alumni` (tests/social_servers.py): a mastodon-mock seeded with alumni accounts
on another server, so the mention resolves and the message can be read by its recipient.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from connectors.mastodon import MastodonClient
from connectors.social import DirectMessage, Outcome, direct_messaging, open_social_network

if TYPE_CHECKING:
    from tests.social_servers import MastodonServer

pytest_plugins = ("tests.social_servers",)


def _status(server: MastodonServer, status_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/statuses/{status_id}",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=5,
    )
    response.raise_for_status()
    return dict(response.json())


def test_a_direct_message_is_a_direct_status_that_reaches_only_the_one_it_mentions(
    mastodon_alumni: MastodonServer,
) -> None:
    marker = uuid.uuid4().hex[:8]
    message = DirectMessage(
        key=f"delivery-{uuid.uuid4().hex}",
        to=f"@ana@{mastodon_alumni.home}",
        text=f"We would like to hear from you ({marker})",
        language="en",
    )
    with MastodonClient(mastodon_alumni.url, mastodon_alumni.token) as client:
        messaging = direct_messaging(client)
        assert messaging is not None
        receipt = messaging.send_direct(message)
        again = messaging.send_direct(message)  # a retry after a lost answer: the same key

    assert receipt.outcome is Outcome.SENT and receipt.remote_id
    assert again.remote_id == receipt.remote_id  # one message, not two
    status = _status(mastodon_alumni, receipt.remote_id)
    assert status["visibility"] == "direct"
    assert status["language"] == "en"
    assert [m["acct"] for m in status["mentions"]] == [f"ana@{mastodon_alumni.home}"]
    reached = [
        c
        for c in mastodon_alumni.conversations("ana_token")
        if marker in c["last_status"]["content"]
    ]
    assert len(reached) == 1
    assert not [
        c
        for c in mastodon_alumni.conversations("bea_token")
        if marker in c["last_status"]["content"]
    ]


def test_the_mention_goes_first_whatever_form_the_handle_was_given_in() -> None:
    for given in ("@ana@home.example", "ana@home.example", " @ana@home.example "):
        message = DirectMessage("k", given, "Hello")
        assert message.addressed_text == "@ana@home.example Hello"


@pytest.mark.parametrize(
    ("key", "to", "text", "error"),
    [
        ("", "@ana@x.example", "Hi", "key ''"),
        ("k", "", "Hi", "is not an account"),
        ("k", "@ana @bea@x.example", "Hi", "is not an account"),
        ("k", "@ana@x.example", "  ", "has no text"),
    ],
)
def test_a_message_that_cannot_be_sent_is_refused_naming_what(
    key: str, to: str, text: str, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        DirectMessage(key, to, text)


def test_bluesky_and_webhooks_offer_no_direct_messages() -> None:
    """Bluesky's repository protocol has none (chat.bsky is another service); a webhook is a
    room. Opening a connector sends nothing, so no server is needed to ask."""
    bluesky = open_social_network(
        "bluesky", "https://bsky.example", handle="office.bsky.example", secret="app-pass-word"
    )
    webhook = open_social_network("webhook", "https://hooks.example/T0/B0/secret")
    mastodon = open_social_network("mastodon", "https://mastodon.example", secret="token")
    try:
        assert direct_messaging(bluesky) is None
        assert direct_messaging(webhook) is None
        assert direct_messaging(mastodon) is mastodon
    finally:
        for network in (bluesky, webhook, mastodon):
            network.close()
