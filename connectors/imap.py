"""Read one IMAP mailbox: the UIDs after a cursor, a message's raw bytes (left unread), a move
to another folder, a flag. Built on ``imapclient``; knows nothing of what the mail means.

The mailbox is named by a URL, ``imap[s]://user:password@host[:port][/MAILBOX][?tls=...]``:

- ``imaps://`` speaks TLS from the first byte (port 993 by default).
- ``imap://`` (port 143) upgrades with STARTTLS when the server offers it. A server that does
  not is used in plain text only on this machine (loopback); elsewhere the password would
  cross the network unencrypted, so it is refused. ``?tls=starttls`` insists on STARTTLS even
  on loopback; ``?tls=none`` never upgrades (loopback only, for the same reason).
- User and password are percent-decoded (``%40`` for ``@``, ``%3A`` for ``:``); the mailbox
  is the path, ``INBOX`` when there is none.

A configuration that cannot work (a bad URL, an unknown host, nothing listening, TLS refused or
not trusted, the login refused, no such mailbox, a server that cannot move one message) raises
``ImapConfigError`` at once: the message names the URL without its password and says what to
change. Retrying would not help, so nothing is retried. A connection lost in the middle of a
session raises what ``imapclient`` or the socket raised. The password is never in an error,
a log line (``imapclient`` redacts LOGIN) or a ``repr``.

Nothing here deletes mail: a message leaves a folder only by ``move``, which is IMAP MOVE, or,
on a server without MOVE, COPY then ``\\Deleted`` and UID EXPUNGE of that one UID (UIDPLUS).

Example:
    >>> with ImapMailbox.open("imaps://office%40school.edu:s3cret@imap.school.edu/INBOX") as box:
    ...     uidvalidity = box.select()
    ...     for uid in box.uids_after(41):
    ...         raw = box.fetch(uid)  # BODY.PEEK[]: stays unread
    ...         box.move(uid, "Processed")
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from connectors.secure_url import LOOPBACK_HOSTS, is_loopback

Tls = Literal["ssl", "starttls", "none"]

URL_FORM = "imap[s]://user:password@host[:port][/MAILBOX][?tls=starttls|none]"
_DEFAULT_PORT = {"imaps": 993, "imap": 143}
_PASSWORD_IN_URL = re.compile(r"(//[^/?#@]*?:)[^/?#]*@")


class ImapConfigError(Exception):
    """The mailbox cannot be used as configured; the message says which URL (no password),
    what went wrong and what to change. Never worth retrying."""


@dataclass(frozen=True)
class ImapAddress:
    """Where the mailbox is and how to log in, read from its URL.

    Attributes:
        tls: "ssl" (imaps), "starttls" (insisted on), "none", or None: STARTTLS when offered.
        password: never shown by ``repr``.
    """

    scheme: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    tls: Tls | None = None

    @classmethod
    def from_url(cls, url: str) -> ImapAddress:
        """Read ``imap[s]://user:password@host[:port][/MAILBOX][?tls=starttls|none]``.

        Raises:
            ImapConfigError: naming the part that is wrong (never echoing the password).
        """
        shown = _PASSWORD_IN_URL.sub(r"\1***@", url.strip())
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()

        def wrong(what: str) -> ImapConfigError:
            return ImapConfigError(f"IMAP URL {shown}: {what}; write it as {URL_FORM}")

        if scheme not in _DEFAULT_PORT:
            raise wrong(f"the scheme {parts.scheme or '(none)'!r} is not imap or imaps")
        if not parts.hostname:
            raise wrong("it has no host")
        try:
            port = parts.port or _DEFAULT_PORT[scheme]
        except ValueError:
            raise wrong("the port is not a number from 1 to 65535") from None
        if not parts.username or parts.password is None:
            raise wrong("it needs a user name and a password (percent-encode @ : / as %40 %3A %2F)")
        if parts.fragment:
            raise wrong("it must not have a #fragment")
        tls: Tls | None = "ssl" if scheme == "imaps" else None
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name != "tls":
                raise wrong(f"the parameter {name!r} is unknown (the only one is tls)")
            if scheme == "imaps":
                raise wrong("imaps:// is TLS from the first byte: leave out ?tls=")
            if value not in ("starttls", "none"):
                raise wrong(f"tls={value!r} is not starttls or none")
            tls = "starttls" if value == "starttls" else "none"
        host = parts.hostname
        if tls == "none" and not is_loopback(host):
            raise wrong(
                f"tls=none would send the password to {host} unencrypted: use imaps:// (port "
                f"993) or imap:// with STARTTLS (tls=none is only for {LOOPBACK_HOSTS})"
            )
        return cls(
            scheme=scheme,
            host=host,
            port=port,
            username=unquote(parts.username),
            password=unquote(parts.password),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
            tls=tls,
        )

    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        query = f"?tls={self.tls}" if self.tls in ("starttls", "none") else ""
        user = quote(self.username, safe="")
        return f"{self.scheme}://{user}@{self.host}:{self.port}/{quote(self.mailbox)}{query}"


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server stores it.

    Attributes:
        raw: the whole message, byte for byte.
        received_at: when the server received it (IMAP INTERNALDATE), aware, in UTC.
    """

    raw: bytes
    received_at: datetime


class ImapMailbox:
    """One logged-in IMAP session on the mailbox of an ``ImapAddress`` (``open`` makes one).

    Attributes:
        address: where and who (its password is never shown).
        encrypted: whether the session runs over TLS.
    """

    def __init__(self, client: IMAPClient, address: ImapAddress, *, encrypted: bool) -> None:
        self._client = client
        self.address = address
        self.encrypted = encrypted
        self._folders: set[str] = set()

    @classmethod
    def open(
        cls,
        url: str | ImapAddress,
        *,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> ImapMailbox:
        """Connect, secure the connection as the URL says, and log in.

        Args:
            url: the mailbox's URL (see the module) or an ``ImapAddress`` read from one.
            timeout: seconds to wait on the server at each step.
            ssl_context: how to verify the server's certificate; None trusts the system's CAs
                (and ``SSL_CERT_FILE``).

        Raises:
            ImapConfigError: the URL is wrong, or the server cannot be reached, secured or
                logged in to; the message says which and what to do.
        """
        address = url if isinstance(url, ImapAddress) else ImapAddress.from_url(url)
        context = ssl_context or ssl.create_default_context()
        where = f"IMAP {address.shown()}"
        client: IMAPClient | None = None
        try:
            client = IMAPClient(
                address.host,
                port=address.port,
                ssl=address.tls == "ssl",
                ssl_context=context,
                timeout=timeout,
            )
            encrypted = address.tls == "ssl"
            if address.tls in (None, "starttls") and client.has_capability("STARTTLS"):
                client.starttls(context)
                encrypted = True
            elif address.tls == "starttls" or (
                address.tls is None and not is_loopback(address.host)
            ):
                raise ImapConfigError(
                    f"{where}: the server does not offer STARTTLS, so the password would go "
                    "unencrypted: use imaps:// (usually port 993), or ask for STARTTLS on the "
                    "server"
                )
            if address.password.isascii():
                client.login(address.username, address.password)
            else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8
                client.plain_login(address.username, address.password)
        except ImapConfigError:
            _shut(client)
            raise
        except LoginError as exc:
            _shut(client)
            raise ImapConfigError(
                f"{where}: the server refused the login as {address.username!r} "
                f"({_text(exc)}): check the user name and password in the IMAP URL"
            ) from None
        except socket.gaierror:
            raise ImapConfigError(
                f"{where}: the host {address.host!r} is not known: check its name in the IMAP URL"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            _shut(client)
            raise ImapConfigError(
                f"{where}: the server's TLS certificate is not trusted ({exc.verify_message}): "
                "check the host name, or install the CA that signed it"
            ) from None
        except ssl.SSLError as exc:
            _shut(client)
            raise ImapConfigError(
                f"{where}: TLS failed ({exc.reason or exc}): imaps:// needs a port that speaks "
                "TLS from the start (usually 993); for a STARTTLS port (usually 143) use imap://"
            ) from None
        except ConnectionRefusedError:
            raise ImapConfigError(
                f"{where}: nothing answers at {address.host} port {address.port}: check the "
                "host and port (993 for imaps://, 143 for imap://)"
            ) from None
        except TimeoutError:
            _shut(client)
            raise ImapConfigError(
                f"{where}: no answer within {timeout:g} s: check the host and port, and that "
                "a firewall lets IMAP through"
            ) from None
        except (OSError, IMAPClientError) as exc:
            _shut(client)
            raise ImapConfigError(
                f"{where}: cannot start a session ({_text(exc)}): check the host, port and TLS "
                "mode in the IMAP URL"
            ) from None
        client.normalise_times = False  # INTERNALDATE with its offset, not naive local time
        return cls(client, address, encrypted=encrypted)

    def __repr__(self) -> str:
        return f"ImapMailbox({self.address.shown()!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def select(self, folder: str | None = None) -> int:
        """Open ``folder`` (the URL's mailbox by default) for reading and changing; return its
        UIDVALIDITY (a new value means the server renumbered its messages).

        Raises:
            ImapConfigError: there is no such folder.
        """
        name = folder or self.address.mailbox
        try:
            info = self._client.select_folder(name)
        except IMAPClientError as exc:
            raise ImapConfigError(
                f"IMAP {self.address.shown()}: cannot open the mailbox {name!r} "
                f"({_text(exc)}): check the mailbox at the end of the IMAP URL"
            ) from None
        return int(info[b"UIDVALIDITY"])

    def uids_after(self, uid: int) -> list[int]:
        """The UIDs greater than ``uid`` in the selected folder, lowest first."""
        # "n:*" always includes the highest UID, even one below n: hence the filter.
        found = self._client.search(["UID", f"{uid + 1}:*"])
        return sorted(int(u) for u in found if int(u) > uid)

    def fetch(self, uid: int) -> FetchedMessage | None:
        """The message with ``uid`` as stored (BODY.PEEK[]: it stays unread) and when the
        server received it; None when it is no longer there."""
        data = self._client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])
        entry = data.get(uid)
        # Expunged by another session (moved) since this one last looked: no entry, or NIL.
        if entry is None or entry.get(b"BODY[]") is None:
            return None
        received: datetime = entry[b"INTERNALDATE"]
        return FetchedMessage(bytes(entry[b"BODY[]"]), received.astimezone(UTC))

    def move(self, uid: int, folder: str) -> bool:
        """Move the message with ``uid`` to ``folder``, creating the folder if missing.

        Return False when the message is no longer in the selected folder (moved already).

        Raises:
            ImapConfigError: the folder cannot be made (a name the server refuses), or the
                server offers neither MOVE nor UIDPLUS, so one message cannot be moved without
                expunging others.
        """
        self.ensure_folder(folder)
        if not self._client.search(["UID", str(uid)]):
            return False
        if self._client.has_capability("MOVE"):
            self._client.move([uid], folder)
        elif self._client.has_capability("UIDPLUS"):
            self._client.copy([uid], folder)
            self._client.add_flags([uid], [b"\\Deleted"])
            self._client.uid_expunge([uid])  # only this UID, never other \Deleted mail
        else:
            raise ImapConfigError(
                f"IMAP {self.address.shown()}: the server offers neither MOVE nor UIDPLUS, so "
                "one message cannot be moved without expunging others: use a server that "
                "offers either (every current one does)"
            )
        return True

    def add_flags(self, uid: int, flags: Sequence[str]) -> None:
        """Add flags (``\\Flagged``) or keywords (``$AlumniUnparsed``) to the message ``uid``."""
        self._client.add_flags([uid], [f.encode("ascii") for f in flags])

    def flags(self, uid: int) -> set[str]:
        """The flags and keywords of the message ``uid`` (empty when it is gone)."""
        entry = self._client.get_flags([uid]).get(uid, ())
        return {f.decode("ascii") if isinstance(f, bytes) else str(f) for f in entry}

    def close(self) -> None:
        """Log out (or drop the connection if the server no longer answers)."""
        try:
            self._client.logout()
        except (IMAPClientError, OSError):
            _shut(self._client)

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` (and subscribe to it) unless it exists.

        Raises:
            ImapConfigError: the server refuses the name.
        """
        if folder in self._folders:
            return
        if not self._client.folder_exists(folder):
            try:
                self._client.create_folder(folder)
            except IMAPClientError as exc:
                if not self._client.folder_exists(folder):  # else another session made it
                    raise ImapConfigError(
                        f"IMAP {self.address.shown()}: cannot create the folder {folder!r} "
                        f"({_text(exc)}): name a folder the server accepts (some servers want "
                        "it under INBOX, e.g. INBOX.Processed)"
                    ) from None
            self._client.subscribe_folder(folder)  # so mail clients show it
        self._folders.add(folder)


def _shut(client: IMAPClient | None) -> None:
    if client is None:
        return
    with contextlib.suppress(OSError):
        client.shutdown()


def _text(exc: BaseException) -> str:
    """An exception's text, with a server's bytes answer decoded."""
    first = exc.args[0] if exc.args else exc
    if isinstance(first, bytes):
        return first.decode("utf-8", "replace")
    return str(first)
