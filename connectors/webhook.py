"""Tell a class's chat (Slack, Discord, Teams or any JSON endpoint) through an incoming webhook.

`WebhookClient` meets `connectors.social.SocialNetwork`: `post` sends a `SocialPost`'s text (and
title) as one chat message, `verify` checks the URL's addresses without sending anything, and
`engagement` is always None (a webhook cannot read a chat back). The post's idempotency key goes
in an `Idempotency-Key` header, which Slack, Discord and Teams ignore: after a lost answer the
message may go twice.

The webhook URL comes from configuration, so it is treated as untrusted: the host is resolved and
every address it resolves to must be public (not loopback, private, link-local, site-local,
unspecified, multicast or reserved), and the request then goes to that checked address, with the
host name in `Host` and in TLS's SNI and certificate check, so DNS cannot point the name elsewhere
between the check and the connection. IPv4 carried inside IPv6 (`::ffff:10.0.0.1`, 6to4, NAT64) is
judged as that IPv4; a Teredo address (2001::/32) is judged as itself, a tunnel IANA lists as not
globally reachable, and is always refused. Redirects are never followed, and at most
`ANSWER_CAP` bytes (4 KB) of the chat's answer are read: the rest is never downloaded.

The URL's path and query are a secret (they hold the webhook's token): `repr`, receipts and
httpx's request log show only scheme and host.

Example:
    >>> hook = WebhookClient("https://hooks.slack.com/services/T0/B0/XXXX", style="slack")
    >>> hook.post(SocialPost("delivery-7", "412 sent, 3 bounced", title="Campaign finished"))
    PostReceipt(key='delivery-7', outcome=<Outcome.SENT: 'sent'>, ..., reply='200 ok')
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from connectors.mail import Closing
from connectors.social import (
    Outcome,
    PostReceipt,
    SocialConnectError,
    SocialPost,
    retry_after_seconds,
)

Style = Literal["slack", "discord", "teams", "generic"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The most bytes of a chat's answer read: enough for any error message, never a flood.
ANSWER_CAP = 4096

_STYLES: tuple[Style, ...] = ("slack", "discord", "teams", "generic")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64's well-known prefix (RFC 6052): the low 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookClient(Closing):
    """One incoming webhook.

    Args:
        url: the webhook's http(s) URL; its path and query are kept secret.
        style: the payload shape: "slack" `{"text"}`, "discord" `{"content"}` (mentions
            disabled), "teams" (an Adaptive Card message, as Teams Workflows take) or "generic"
            `{"title", "text"}`. Anything else is a ValueError naming the four.
        allow_private: also allow loopback, private, link-local and site-local addresses; for
            tests and a chat server on the office's own network only.
        client: an httpx client to send through (e.g. with a proxy or a CA); None makes one
            (ignoring proxy variables), closed by `close`.
        timeout: seconds to wait at each step of the request.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        style: str,
        allow_private: bool = False,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(
                f"webhook URL scheme {parts.scheme!r} is not http or https; give the https:// URL "
                "the chat service showed"
            )
        if not parts.hostname:
            raise ValueError("webhook URL has no host; give the full https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"webhook URL for {parts.hostname} must not have user:password@")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError(f"webhook URL for {parts.hostname} has a bad port") from None
        if timeout <= 0:
            raise ValueError(f"webhook timeout must be a positive number of seconds: {timeout}")
        self.style: Style = _style(style)
        self.allow_private = allow_private
        self.timeout = timeout
        self.host = parts.hostname
        self.port = port
        self._scheme = scheme
        self._url = httpx.URL(url.strip())
        self._host_header = parts.netloc
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(trust_env=False)
        _redactor.install()

    def __repr__(self) -> str:
        return f"WebhookClient(url='{self._scheme}://{self._host_header}/…', style={self.style!r})"

    def close(self) -> None:
        """Close the httpx client if this object made it."""
        if self._own_client:
            self._client.close()

    def verify(self) -> str:
        """Check that the host resolves and may be reached, without sending a message.

        Returns:
            The webhook's scheme and host, e.g. "https://hooks.slack.com".

        Raises:
            SocialConnectError: the host does not resolve (`transient`) or resolves to an
                address webhooks must not reach.
        """
        self._checked_addresses()
        return f"{self._scheme}://{self._host_header}"

    def post(self, post: SocialPost) -> PostReceipt:
        """Send `post`'s text (under its title, if any) as one chat message.

        Returns:
            A receipt with the post's key: `sent` on 2xx; `transient` on 429 (with
            `retry_after`), 5xx, DNS or connection failures; `permanent` for a refused address,
            a redirect or 4xx. Its reply holds at most 200 characters of the chat's answer.
        """
        try:
            addresses = self._checked_addresses()
        except SocialConnectError as exc:
            outcome = Outcome.TRANSIENT if exc.transient else Outcome.PERMANENT
            return PostReceipt(post.key, outcome, None, None, None, str(exc))
        payload = self._payload(post.text, post.title)
        headers = {
            "Host": self._host_header,
            "Idempotency-Key": post.key,
            # Compressed answers would have to be inflated to read even their first bytes.
            "Accept-Encoding": "identity",
        }
        failures: list[str] = []
        for address in addresses:
            target = self._url.copy_with(host=str(address))
            extensions: dict[str, Any] = {}
            if self._scheme == "https" and not _is_ip(self.host):
                extensions["sni_hostname"] = self.host  # also the name the certificate must show
            with _redactor.secret(target):
                try:
                    with self._client.stream(
                        "POST",
                        target,
                        json=payload,
                        headers=headers,
                        extensions=extensions,
                        timeout=self.timeout,
                        follow_redirects=False,
                    ) as response:
                        answer = _answer_head(response)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    failures.append(f"{address}: {_describe(exc)}")
                    continue
                except httpx.TransportError as exc:
                    reply = f"{self._where} ({address}) gave no answer: {_describe(exc)}"
                    return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, reply, True)
            return self._receipt(post.key, response, answer)
        reply = f"{self._where}: cannot connect ({'; '.join(failures)})"
        return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, reply)

    def engagement(self, remote_id: str) -> None:
        """Nothing: a webhook only sends, it cannot read likes or replies back from the chat."""
        return None

    @property
    def _where(self) -> str:
        return f"webhook {self._scheme}://{self._host_header}"

    def _checked_addresses(self) -> list[IPAddress]:
        """The host's addresses, each allowed; SocialConnectError naming what is wrong if not."""
        try:
            return self._addresses()
        except _Refused as refused:
            raise SocialConnectError(f"{self._where}: {refused}") from None
        except OSError as exc:
            raise SocialConnectError(
                f"{self._where}: cannot resolve {self.host} ({exc}); check the URL and DNS",
                transient=True,
            ) from None

    def _addresses(self) -> list[IPAddress]:
        """The host's addresses, in resolver order, each checked; raises _Refused if any fails."""
        infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
            if address in addresses:
                continue
            reason = address_refusal(address, allow_private=self.allow_private)
            if reason is not None:
                shown = "" if _is_ip(self.host) else f"{self.host} resolves to "
                raise _Refused(
                    f"{shown}{address}, {reason}: refused; webhooks may only reach public "
                    "addresses (allow_private is for tests and the office's own network)"
                )
            addresses.append(address)
        return addresses

    def _payload(self, text: str, title: str | None) -> dict[str, Any]:
        if self.style == "slack":
            return {"text": f"*{title}*\n{text}" if title else text}
        if self.style == "discord":
            # No @everyone or role pings from a message's text.
            content = f"**{title}**\n{text}" if title else text
            return {"content": content, "allowed_mentions": {"parse": []}}
        if self.style == "teams":
            body: list[dict[str, Any]] = []
            if title:
                body.append({"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True})
            body.append({"type": "TextBlock", "text": text, "wrap": True})
            card = {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            }
            attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            return {"type": "message", "attachments": [attachment]}
        return {"title": title, "text": text}

    def _receipt(self, key: str, response: httpx.Response, answer: str) -> PostReceipt:
        where = self._where
        code = response.status_code
        answer = " ".join(answer.split())[:200]
        reply = f"{code} {answer or response.reason_phrase}".strip()
        if response.is_success:
            return PostReceipt(key, Outcome.SENT, None, None, None, reply)
        if code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            return PostReceipt(key, Outcome.TRANSIENT, None, None, wait, f"{where}: {reply}")
        if code >= 500:
            return PostReceipt(key, Outcome.TRANSIENT, None, None, None, f"{where}: {reply}", True)
        if response.is_redirect:
            reply = (
                f"{where} redirects ({code}) to {response.headers.get('location')}: redirects are "
                "not followed; put the final URL in the configuration"
            )
            return PostReceipt(key, Outcome.PERMANENT, None, None, None, reply)
        return PostReceipt(key, Outcome.PERMANENT, None, None, None, f"{where}: {reply}")


def _answer_head(response: httpx.Response) -> str:
    """The first `ANSWER_CAP` bytes of a streamed answer, as text; the rest is never read.

    A compressed answer (sent despite `Accept-Encoding: identity`) gives "", and so does a body
    that breaks off: the status code is the answer, the body only explains it.
    """
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return ""
    head = bytearray()
    try:
        for chunk in response.iter_raw():
            head += chunk[: ANSWER_CAP - len(head)]
            if len(head) >= ANSWER_CAP:
                break
    except httpx.TransportError:
        pass
    try:
        return head.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return head.decode("utf-8", errors="replace")


def address_refusal(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why a webhook must not connect to `address`, or None if it may.

    IPv4 carried inside IPv6 (`::ffff:127.0.0.1`, 6to4, NAT64) is judged as that IPv4. A Teredo
    address (2001::/32) is judged as itself, not by the IPv4 addresses it embeds: a tunnel to a
    client behind NAT through whichever relay the route finds, in a block IANA lists as not
    globally reachable. It is refused whatever it embeds, even with `allow_private`: no chat
    service, nor a chat server on the office's own network, is reached through Teredo.

    Args:
        address: a resolved address.
        allow_private: let loopback, private, link-local and site-local addresses through.

    Returns:
        e.g. "a loopback address", "a private address", "a Teredo tunnel address (2001::/32)".
    """
    if isinstance(address, ipaddress.IPv6Address) and address.teredo is not None:
        return "a Teredo tunnel address (2001::/32)"
    inner = _embedded_ipv4(address)
    if inner is not None:
        reason = address_refusal(inner, allow_private=allow_private)
        return None if reason is None else f"{reason} ({inner} inside IPv6)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    # fec0::/10, deprecated (RFC 3879) but still routed inside some networks; Python counts it
    # as global.
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _style(value: str) -> Style:
    """`value` as a payload style, or ValueError naming the styles there are."""
    for style in _STYLES:
        if value == style:
            return style
    raise ValueError(f"webhook style {value!r} is not one of {', '.join(_STYLES)}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Refused(Exception):
    """The webhook's host resolves to an address it must not reach."""


class _Redactor(logging.Filter):
    """Hides webhook URLs (their path holds the token) in httpx's "HTTP Request: ..." log line."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, int] = {}
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        with self._lock:
            if not self._installed:
                logging.getLogger("httpx").addFilter(self)
                self._installed = True

    @contextmanager
    def secret(self, url: httpx.URL) -> Iterator[None]:
        """While inside, `url` is redacted from httpx's log."""
        key = str(url)
        with self._lock:
            self._secrets[key] = self._secrets.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._secrets.pop(key) - 1
                if left:
                    self._secrets[key] = left

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and self._secrets:
            record.args = tuple(
                f"{arg.scheme}://{arg.netloc.decode('ascii')}/…"
                if isinstance(arg, httpx.URL) and str(arg) in self._secrets
                else arg
                for arg in record.args
            )
        return True


_redactor = _Redactor()
