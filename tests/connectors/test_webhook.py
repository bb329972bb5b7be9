"""WebhookClient against a real local HTTP(S) server, and its refusal of non-public addresses."""

from __future__ import annotations

import ipaddress
import logging
import re
import select
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from connectors.social import Outcome, SocialConnectError, SocialPost
from connectors.webhook import ANSWER_CAP, WebhookClient, address_refusal

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.social_servers import Script, ScriptedServer, WebhookReceiver


SECRET_PATH = "/hook"


def _post(text: str, title: str | None = None) -> SocialPost:
    return SocialPost(f"delivery-{uuid.uuid4().hex}", text, title=title)


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
    with WebhookClient(url, style=style, allow_private=True) as hook:
        receipt = hook.post(_post("412 sent · 3 bounced", title="Campaign finished"))
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert receipt.reply == "200 ok"
    path, headers, body = _last(webhook_receiver)
    assert path == SECRET_PATH
    assert headers["Host"] == f"localhost:{webhook_receiver.port}"  # the name, not the address
    assert headers["Content-Type"] == "application/json"
    assert body == expected


def test_the_posts_key_goes_as_idempotency_key_and_comes_back_in_the_receipt(
    webhook_receiver: WebhookReceiver,
) -> None:
    post = _post("keyed")
    url = webhook_receiver.url(SECRET_PATH)
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        receipt = hook.post(post)
    assert receipt.outcome is Outcome.SENT
    assert receipt.key == post.key
    assert _last(webhook_receiver)[1]["Idempotency-Key"] == post.key


def test_verify_checks_the_addresses_without_sending_anything(
    webhook_receiver: WebhookReceiver,
) -> None:
    before = len(webhook_receiver.received)
    url = webhook_receiver.url(SECRET_PATH, host="localhost")
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        assert hook.verify() == f"http://localhost:{webhook_receiver.port}"
        assert hook.engagement("anything") is None  # a chat is not read back
    with (
        WebhookClient(url, style="slack") as hook,
        pytest.raises(SocialConnectError, match=r"localhost resolves to 127\.0\.0\.1") as refused,
    ):
        hook.verify()
    assert not refused.value.transient
    assert SECRET_PATH not in str(refused.value)
    assert len(webhook_receiver.received) == before


def test_an_unknown_style_is_named_with_the_styles_there_are() -> None:
    with pytest.raises(ValueError, match="'irc' is not one of slack, discord, teams, generic"):
        WebhookClient("https://hooks.example/x", style="irc")


def test_without_title_only_the_text_goes(webhook_receiver: WebhookReceiver) -> None:
    url = webhook_receiver.url(SECRET_PATH)
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        assert hook.post(_post("plain")).outcome is Outcome.SENT
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
        ("[fec0::1]", "a site-local address"),
        ("[2001:0:4136:e378:8000:63bf:f7f7:f7f7]", "a Teredo tunnel address (2001::/32)"),
        ("localhost", "a loopback address"),
    ],
)
def test_non_public_addresses_are_refused_before_any_connection(
    webhook_receiver: WebhookReceiver, host: str, reason: str
) -> None:
    before = len(webhook_receiver.received)
    with WebhookClient(f"http://{host}:{webhook_receiver.port}/hook", style="generic") as hook:
        receipt = hook.post(_post("hello"))
    assert receipt.outcome is Outcome.PERMANENT
    assert reason in receipt.reply
    assert "refused" in receipt.reply
    if host == "localhost":
        assert "localhost resolves to 127.0.0.1" in receipt.reply
    assert len(webhook_receiver.received) == before


def test_allow_private_still_refuses_unspecified_multicast_and_teredo() -> None:
    for text in ("0.0.0.0", "::", "ff02::1", "239.1.2.3", "::ffff:0.0.0.0", "2001:0:a00:1::1"):
        assert address_refusal(ipaddress.ip_address(text), allow_private=True) is not None
    for text in ("127.0.0.1", "10.1.2.3", "::1", "fd00::5", "fec0::1"):
        assert address_refusal(ipaddress.ip_address(text), allow_private=True) is None


def test_site_local_ipv6_is_refused_though_python_counts_it_global() -> None:
    for text in ("fec0::1", "fec0:0:0:ffff::1", "feff:ffff::1"):
        address = ipaddress.IPv6Address(text)
        assert address.is_global  # why the check needs its own rule
        assert address_refusal(address) == "a site-local address"


@pytest.mark.parametrize(
    ("text", "server", "client"),
    [
        # server and client both public: judged by what it embeds, it would pass
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "65.54.227.120", "8.8.8.8"),
        # a private server or client changes nothing: the address itself is refused
        ("2001:0:a00:1:8000:63bf:f5ff:fffe", "10.0.0.1", "10.0.0.1"),
        ("2001:0:808:808::80ff:fffe", "8.8.8.8", "127.0.0.1"),
        ("2001::", "0.0.0.0", "255.255.255.255"),
    ],
)
def test_a_teredo_address_is_judged_as_itself_not_by_the_ipv4_it_embeds(
    text: str, server: str, client: str
) -> None:
    address = ipaddress.IPv6Address(text)
    assert address.teredo == (ipaddress.IPv4Address(server), ipaddress.IPv4Address(client))
    for allow_private in (False, True):
        reason = address_refusal(address, allow_private=allow_private)
        assert reason == "a Teredo tunnel address (2001::/32)"
    # Other IPv6 in 2001::/23 that is not Teredo is judged on its own terms as before.
    assert address_refusal(ipaddress.IPv6Address("2001:db8::1")) == "a private address"


def test_public_addresses_pass() -> None:
    for text in (
        "93.184.215.14",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2001:4860:4860::8888",  # in 2001::/16 but not Teredo's 2001::/32
    ):
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
        receipt = hook.post(_post("hello"))
    assert receipt.outcome is Outcome.PERMANENT
    assert f"to {webhook_receiver.url('/hook')}" in receipt.reply
    assert "not followed" in receipt.reply
    assert [r.path for r in webhook_receiver.received[before:]] == ["/redirect"]


def test_rate_limit_is_transient_with_retry_after(webhook_receiver: WebhookReceiver) -> None:
    with WebhookClient(webhook_receiver.url("/busy"), style="slack", allow_private=True) as hook:
        receipt = hook.post(_post("hello"))
    assert receipt.outcome is Outcome.TRANSIENT
    assert receipt.retry_after == 7


@pytest.mark.parametrize(("path", "outcome"), [("/broken", "transient"), ("/gone", "permanent")])
def test_server_errors_are_transient_and_client_errors_permanent(
    webhook_receiver: WebhookReceiver, path: str, outcome: str
) -> None:
    with WebhookClient(webhook_receiver.url(path), style="slack", allow_private=True) as hook:
        receipt = hook.post(_post("hello"))
    assert receipt.outcome == outcome
    assert receipt.in_doubt is (outcome == "transient")


def test_nothing_listening_is_transient(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/hook"
    with WebhookClient(url, style="slack", allow_private=True) as hook:
        receipt = hook.post(_post("hello"))
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
        receipt = hook.post(_post("over TLS"))
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert _last(https_webhook_receiver)[2] == {"title": None, "text": "over TLS"}
    # The certificate names only localhost: asked for by address, verification must fail.
    by_address = https_webhook_receiver.url(SECRET_PATH)
    with (
        httpx.Client(verify=context) as client,
        WebhookClient(by_address, style="generic", allow_private=True, client=client) as hook,
    ):
        refused = hook.post(_post("over TLS"))
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
        receipt = hook.post(_post("hello"))
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
        assert hook.post(_post("once")).outcome is Outcome.SENT
    assert lookups.count("localhost") == 1
    assert set(lookups) <= {"localhost", "127.0.0.1"}


HUGE = 10 * 1024 * 1024
FIRST = 64 * 1024  # sent before the flooding server waits to see whether the client hangs up


@dataclass
class Flood:
    """What a flooding server managed to send, and whether the client hung up first."""

    port: int
    sent: int = 0
    hung_up: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@contextmanager
def flooding_server() -> Iterator[Flood]:
    """A loopback HTTP server that answers one POST with 200 and a 10 MB body.

    It sends the first 64 KB, then waits until the client hangs up (or 30 s pass, for a client
    that reads on), and only then sends the rest; the kernel's buffers, which can hold tens of
    megabytes on loopback, cannot blur the result.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    flood = Flood(listener.getsockname()[1])

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            declared = re.search(rb"(?i)content-length: *(\d+)", head)
            length = int(declared.group(1)) if declared else 0
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + f"Content-Length: {HUGE}\r\n\r\n".encode()
            )
            try:
                conn.sendall(b"accepted " + b"x" * (FIRST - 9))
                flood.sent = FIRST
                readable, _, _ = select.select([conn], [], [], 30)
                if readable and not conn.recv(1):  # end of stream: the client closed
                    flood.hung_up = True
                else:
                    conn.sendall(b"x" * (HUGE - FIRST))
                    flood.sent = HUGE
            except (ConnectionResetError, BrokenPipeError):
                flood.hung_up = True
        flood.done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield flood
    finally:
        listener.close()
        thread.join(timeout=60)


def test_a_compressed_answer_is_not_inflated_only_its_status_is_read(
    scripted_server: Callable[[Script], ScriptedServer],
) -> None:
    # Labelled gzip but not gzip: inflating it (as httpx does unasked) could only fail.
    server = scripted_server(lambda method, path, headers: (200, {"Content-Encoding": "gzip"}, {}))
    with WebhookClient(f"{server.url}/hook", style="slack", allow_private=True) as hook:
        receipt = hook.post(_post("hello"))
    assert receipt.outcome is Outcome.SENT, receipt.reply
    assert receipt.reply == "200 OK"
    assert server.received[-1].headers["Accept-Encoding"] == "identity"


def test_a_huge_answer_is_read_only_to_the_cap() -> None:
    with flooding_server() as flood:
        url = f"http://127.0.0.1:{flood.port}/hook"
        with WebhookClient(url, style="slack", allow_private=True) as hook:
            receipt = hook.post(_post("hello"))
        assert flood.done.wait(60)
    assert receipt.outcome is Outcome.SENT
    assert receipt.reply.startswith("200 accepted xxx")
    assert len(receipt.reply) <= 204
    assert ANSWER_CAP < FIRST
    assert flood.hung_up  # the client stopped reading and closed the connection...
    assert flood.sent == FIRST  # ...before the other 10 MB were sent
