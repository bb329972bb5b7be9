"""Credentials go over TLS, or in plain text only to this machine: the rule and the connectors
that apply it when they are made (no server is needed: a refused URL is never contacted)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.bluesky import BlueskyClient
from connectors.mail import Closing
from connectors.mastodon import MastodonClient
from connectors.secure_url import is_loopback, refuse_plain_http


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("mastodon.example", False),
        ("localhost.example.org", False),
        ("127.0.0.1.nip.example", False),
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("0.0.0.0", False),
        ("::ffff:10.0.0.5", False),
        ("2001:db8::1", False),
        ("", False),
    ],
)
def test_loopback_is_judged_from_the_host_as_written(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.example",
        "http://127.0.0.1:8088",
        "http://localhost:3000",
        "http://[::1]:2583",
    ],
)
def test_https_and_loopback_http_are_allowed(url: str) -> None:
    refuse_plain_http(url, what="Mastodon server", carrying="access token")


def test_plain_http_to_another_host_is_refused_with_the_https_url_to_use() -> None:
    with pytest.raises(ValueError) as refused:
        refuse_plain_http(
            "HTTP://officer:hunter2@social.example:8443/base/",
            what="Mastodon server",
            carrying="access token",
        )
    message = str(refused.value)
    assert "Mastodon server http://social.example:8443 would get the access token" in message
    assert "use https://social.example:8443/base (" in message
    assert "hunter2" not in message and "officer" not in message


@pytest.mark.parametrize(
    "make",
    [
        lambda url: MastodonClient(url, "token-4711"),
        lambda url: BlueskyClient(url, "office.bsky.social", "app-pass-4711"),
    ],
    ids=["mastodon", "bluesky"],
)
def test_social_clients_refuse_plain_http_to_another_host(make: Callable[[str], Closing]) -> None:
    with pytest.raises(ValueError, match="unencrypted") as refused:
        make("http://social.example")
    assert "use https://social.example" in str(refused.value)
    assert "4711" not in str(refused.value)
    for allowed in ("https://social.example", "http://127.0.0.1:8088", "http://localhost:2583"):
        make(allowed).close()
