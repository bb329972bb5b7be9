"""Whether a connector may send a password or token to a server: over TLS, or in plain text only
to this machine.

Anyone on the path can read a credential sent without TLS; a server on loopback (``localhost``,
``127.0.0.0/8``, ``::1``) is on this machine, so plain text to it never leaves it. Host names are
judged as written, never resolved: a name that DNS maps to 127.0.0.1 today may not tomorrow.

Example:
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("mastodon.example")
    (True, True, False)
    >>> refuse_plain_http("http://127.0.0.1:8088", what="Mastodon", carrying="access token")
    >>> refuse_plain_http("http://mastodon.example", what="Mastodon", carrying="access token")
    Traceback (most recent call last):
    ValueError: Mastodon http://mastodon.example would get the access token unencrypted:
    use https://mastodon.example (plain http:// is only for a server on this machine: ...)
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_HOSTS = "localhost, 127.0.0.1 or ::1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IP literal, brackets allowed) is this machine's loopback."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name.partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def refuse_plain_http(url: str, *, what: str, carrying: str) -> None:
    """Raise when ``url`` is ``http://`` to a host that is not loopback.

    Args:
        url: the server's base URL as configured.
        what: the server, as the person knows it, e.g. "Mastodon server".
        carrying: the credential that would travel unencrypted, e.g. "access token".

    Raises:
        ValueError: naming the host and the ``https://`` URL to use instead.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme.lower() != "http" or is_loopback(host):
        return
    where = parts.netloc.rpartition("@")[2]  # never echo a user:password@ part
    raise ValueError(
        f"{what} http://{where} would get the {carrying} unencrypted: use "
        f"https://{where}{parts.path.rstrip('/')} (plain http:// is only for a server on this "
        f"machine: {LOOPBACK_HOSTS})"
    )
