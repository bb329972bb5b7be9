"""Tell the office's chat (Slack, Discord, Teams or any JSON endpoint) through an incoming webhook.

The webhook URL comes from configuration, so it is treated as untrusted: the host is resolved and
every address it resolves to must be public (not loopback, private, link-local, unspecified,
multicast or reserved, IPv4 inside IPv6 included), and the request then goes to that checked
address, with the host name in `Host` and in TLS's SNI and certificate check, so DNS cannot point
the name elsewhere between the check and the connection. Redirects are never followed.

The URL's path and query are a secret (they hold the webhook's token): `repr`, receipts and
httpx's request log show only scheme and host.

Example:
    >>> hook = WebhookClient("https://hooks.slack.com/services/T0/B0/XXXX", style="slack")
    >>> hook.post("Class of 2015 campaign: 412 sent, 3 bounced", title="Campaign finished")
    PostReceipt(key='', outcome=<Outcome.SENT: 'sent'>, ..., reply='200 ok')
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
from connectors.social import Outcome, PostReceipt, retry_after_seconds

Style = Literal["slack", "discord", "teams", "generic"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_STYLES = ("slack", "discord", "teams", "generic")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64's well-known prefix (RFC 6052): the low 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookClient(Closing):
    """One incoming webhook.

    Args:
        url: the webhook's http(s) URL; its path and query are kept secret.
        style: the payload shape: "slack" `{"text"}`, "discord" `{"content"}` (mentions
            disabled), "teams" (an Adaptive Card message, as Teams Workflows take) or "generic"
            `{"title", "text"}`.
        allow_private: also allow loopback, private and link-local addresses; for tests and
            a chat server on the office's own network only.
        client: an httpx client to send through (e.g. with a proxy or a CA); None makes one
            (ignoring proxy variables), closed by `close`.
        timeout: seconds to wait at each step of the request.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        style: Style,
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
        if style not in _STYLES:
            raise ValueError(f"webhook style {style!r} is not one of {', '.join(_STYLES)}")
        if timeout <= 0:
            raise ValueError(f"webhook timeout must be a positive number of seconds: {timeout}")
        self.style: Style = style
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

    def post(self, text: str, *, title: str | None = None) -> PostReceipt:
        """Send one message.

        Args:
            text: the message.
            title: a heading shown above it, if any.

        Returns:
            A receipt with key "": `sent` on 2xx; `transient` on 429 (with `retry_after`), 5xx,
            DNS or connection failures; `permanent` for a refused address, a redirect or 4xx.
        """
        where = f"webhook {self._scheme}://{self._host_header}"
        try:
            addresses = self._addresses()
        except _Refused as refused:
            return PostReceipt("", Outcome.PERMANENT, None, None, None, f"{where}: {refused}")
        except OSError as exc:
            reply = f"{where}: cannot resolve {self.host} ({exc}); check the URL and DNS"
            return PostReceipt("", Outcome.TRANSIENT, None, None, None, reply)
        payload = self._payload(text, title)
        failures: list[str] = []
        for address in addresses:
            target = self._url.copy_with(host=str(address))
            extensions: dict[str, Any] = {}
            if self._scheme == "https" and not _is_ip(self.host):
                extensions["sni_hostname"] = self.host  # also the name the certificate must show
            with _redactor.secret(target):
                try:
                    response = self._client.post(
                        target,
                        json=payload,
                        headers={"Host": self._host_header},
                        extensions=extensions,
                        timeout=self.timeout,
                        follow_redirects=False,
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    failures.append(f"{address}: {_describe(exc)}")
                    continue
                except httpx.TransportError as exc:
                    reply = f"{where} ({address}) gave no answer: {_describe(exc)}"
                    return PostReceipt("", Outcome.TRANSIENT, None, None, None, reply, True)
            return self._receipt(where, response)
        reply = f"{where}: cannot connect ({'; '.join(failures)})"
        return PostReceipt("", Outcome.TRANSIENT, None, None, None, reply)

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

    def _receipt(self, where: str, response: httpx.Response) -> PostReceipt:
        code = response.status_code
        answer = " ".join(response.text.split())[:200]
        reply = f"{code} {answer or response.reason_phrase}".strip()
        if response.is_success:
            return PostReceipt("", Outcome.SENT, None, None, None, reply)
        if code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            return PostReceipt("", Outcome.TRANSIENT, None, None, wait, f"{where}: {reply}")
        if code >= 500:
            return PostReceipt("", Outcome.TRANSIENT, None, None, None, f"{where}: {reply}", True)
        if response.is_redirect:
            reply = (
                f"{where} redirects ({code}) to {response.headers.get('location')}: redirects are "
                "not followed; put the final URL in the configuration"
            )
            return PostReceipt("", Outcome.PERMANENT, None, None, None, reply)
        return PostReceipt("", Outcome.PERMANENT, None, None, None, f"{where}: {reply}")


def address_refusal(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why a webhook must not connect to `address`, or None if it may.

    IPv4 carried inside IPv6 (`::ffff:127.0.0.1`, 6to4, Teredo, NAT64) is judged as that IPv4.

    Args:
        address: a resolved address.
        allow_private: let loopback, private and link-local addresses through.

    Returns:
        e.g. "a loopback address", "a private address", "a link-local address".
    """
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
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


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
