"""WebhookClient against a real local HTTP(S) server, and its refusal of non-public addresses."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from connectors.social import Outcome
from connectors.webhook import WebhookClient, address_refusal

if TYPE_CHECKING:
    from tests.social_servers import WebhookReceiver


SECRET_PATH = "/hook"


def _last(receiver: WebhookReceiver) -> tuple[str, dict[str, str], object]:
    got = receiver.received[-1]
    return got.path, got.headers, got.json()


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("slack", {"text": "*Campaign finished*\n412 sent · 3 bounced"}),
        (
            "discord",
            {
                "content": "**Campaign finished**\n412 sent · 3 bounced",
                "allowed_mentions": {"parse": []},
            },
        ),
        ("generic", {"title": "Campaign finished", "text": "412 sent · 3 bounced"}),
        (
            "teams",
            {
                "type": "message",
                "attachments": [
                    {
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": {
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard",
                            "version": "1.4",
                            "body": [
                                {
                                    "type": "TextBlock",
                                    "text": "Campaign finished",
                                    "weight": "Bolder",
                                    "wrap": True,
                                },
                                {"type": "TextBlock", "text": "412 sent · 3 bounced", "wrap": True},
                            ],
                        },
                    }
                ],
            },
        ),
    ],
)
def test_each_style_delivers_its_payload(
    webhook_receiver: WebhookReceiver, style: str, expected: dict[str, object]
) -> None:
    url = webhook_receiver.url(SECRET_PATH, host="localhost")
    with WebhookClient(url, style=style, allow_private=True) as hook:  # type: ignore[arg-type]
        receipt = hook.post("412 sent · 3 bounced", title="Campaign finished")
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert receipt.reply == "200 ok"
    path, headers, body = _last(webhook_receiver)
    assert path == SECRET_PATH
    assert headers["Host"] == f"localhost:{webhook_receiver.port}"  # the name, not the address
    assert headers["Content-Type"] == "application/json"
    assert body == expected


def test_without_title_only_the_text_goes(webhook_receiver: WebhookReceiver) -> None:
    url = webhook_receiver.url(SECRET_PATH)
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        assert hook.post("plain").outcome is Outcome.SENT
    assert _last(webhook_receiver)[2] == {"text": "plain"}


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("192.168.1.20", "a private address"),
        ("172.16.5.4", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("[::1]", "a loopback address"),
        ("[::]", "an unspecified address"),
        ("[fe80::1]", "a link-local address"),
        ("[fd12:3456::1]", "a private address"),
        ("[::ffff:127.0.0.1]", "a loopback address (127.0.0.1 inside IPv6)"),
        ("[::ffff:169.254.169.254]", "a link-local address (169.254.169.254 inside IPv6)"),
        ("[2002:7f00:1::]", "a loopback address (127.0.0.1 inside IPv6)"),
        ("[64:ff9b::a00:1]", "a private address (10.0.0.1 inside IPv6)"),
        ("localhost", "a loopback address"),
    ],
)
def test_non_public_addresses_are_refused_before_any_connection(
    webhook_receiver: WebhookReceiver, host: str, reason: str
) -> None:
    before = len(webhook_receiver.received)
    with WebhookClient(f"http://{host}:{webhook_receiver.port}/hook", style="generic") as hook:
        receipt = hook.post("hello")
    assert receipt.outcome is Outcome.PERMANENT
    assert reason in receipt.reply
    assert "refused" in receipt.reply
    if host == "localhost":
        assert "localhost resolves to 127.0.0.1" in receipt.reply
    assert len(webhook_receiver.received) == before


def test_allow_private_still_refuses_unspecified_and_multicast() -> None:
    for text in ("0.0.0.0", "::", "ff02::1", "239.1.2.3", "::ffff:0.0.0.0"):
        assert address_refusal(ipaddress.ip_address(text), allow_private=True) is not None
    for text in ("127.0.0.1", "10.1.2.3", "::1", "fd00::5"):
        assert address_refusal(ipaddress.ip_address(text), allow_private=True) is None


def test_public_addresses_pass() -> None:
    for text in ("93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"):
        assert address_refusal(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
        ("ftp://files.example/hook", "scheme 'ftp'"),
        ("gopher://127.0.0.1:70/", "scheme 'gopher'"),
        ("https:///hook", "no host"),
        ("https://user:pw@hooks.example/x", "user:password"),
    ],
)
def test_only_http_and_https_urls_are_taken(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WebhookClient(url, style="generic")


def test_a_redirect_is_not_followed_and_names_the_location(
    webhook_receiver: WebhookReceiver,
) -> None:
    before = len(webhook_receiver.received)
    url = webhook_receiver.url("/redirect")
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        receipt = hook.post("hello")
    assert receipt.outcome is Outcome.PERMANENT
    assert f"to {webhook_receiver.url('/hook')}" in receipt.reply
    assert "not followed" in receipt.reply
    assert [r.path for r in webhook_receiver.received[before:]] == ["/redirect"]


def test_rate_limit_is_transient_with_retry_after(webhook_receiver: WebhookReceiver) -> None:
    with WebhookClient(webhook_receiver.url("/busy"), style="slack", allow_private=True) as hook:
        receipt = hook.post("hello")
    assert receipt.outcome is Outcome.TRANSIENT
    assert receipt.retry_after == 7


@pytest.mark.parametrize(("path", "outcome"), [("/broken", "transient"), ("/gone", "permanent")])
def test_server_errors_are_transient_and_client_errors_permanent(
    webhook_receiver: WebhookReceiver, path: str, outcome: str
) -> None:
    with WebhookClient(webhook_receiver.url(path), style="slack", allow_private=True) as hook:
        receipt = hook.post("hello")
    assert receipt.outcome == outcome
    assert receipt.in_doubt is (outcome == "transient")


def test_nothing_listening_is_transient(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/hook"
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        receipt = hook.post("hello")
    assert receipt.outcome is Outcome.TRANSIENT
    assert "cannot connect" in receipt.reply


def test_https_checks_the_certificate_against_the_name_not_the_address(
    https_webhook_receiver: WebhookReceiver,
) -> None:
    context = https_webhook_receiver.ssl_context
    assert context is not None
    by_name = https_webhook_receiver.url(SECRET_PATH, host="localhost")
    with (
        httpx.Client(verify=context) as client,
        WebhookClient(by_name, style="generic", allow_private=True, client=client) as hook,
    ):
        receipt = hook.post("over TLS")
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert _last(https_webhook_receiver)[2] == {"title": None, "text": "over TLS"}
    # The certificate names only localhost: asked for by address, verification must fail.
    by_address = https_webhook_receiver.url(SECRET_PATH)
    with (
        httpx.Client(verify=context) as client,
        WebhookClient(by_address, style="generic", allow_private=True, client=client) as hook,
    ):
        refused = hook.post("over TLS")
    assert refused.outcome is Outcome.TRANSIENT
    assert "CERTIFICATE_VERIFY_FAILED" in refused.reply or "IP address mismatch" in refused.reply


def test_the_url_path_is_kept_out_of_repr_receipts_and_logs(
    webhook_receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "/services/T000/B000/XXXXsecretXXXX"
    url = webhook_receiver.url(secret)
    with (
        caplog.at_level(logging.INFO, logger="httpx"),
        WebhookClient(url, style="slack", allow_private=True) as hook,
    ):
        receipt = hook.post("hello")
        assert "XXXXsecretXXXX" not in repr(hook)
    assert receipt.outcome is Outcome.PERMANENT  # the receiver answers 404 for unknown paths
    assert "XXXXsecretXXXX" not in receipt.reply
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request...
    assert "XXXXsecretXXXX" not in caplog.text  # ...without the token
    assert webhook_receiver.received[-1].path == secret


def test_the_name_is_resolved_once_and_the_checked_address_is_used(
    webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second lookup of the name is where DNS rebinding would slip in a different address.
    lookups: list[str] = []
    real = socket.getaddrinfo

    def counting(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    url = webhook_receiver.url(SECRET_PATH, host="localhost")
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        assert hook.post("once").outcome is Outcome.SENT
    assert lookups.count("localhost") == 1
    assert set(lookups) <= {"localhost", "127.0.0.1"}
