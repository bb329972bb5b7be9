"""Send mail through an SMTP relay over a small pool of reused, parallel connections.

Each of `connections` worker threads holds one `smtplib` connection (logged in once) and pulls
messages from a shared queue; connections stay open between `send` calls until `close`.

Per message the transport speaks MAIL, RCPT and DATA itself so that each step's reply can be
classified: 2xx after the message body is `sent`, 4xx anywhere is `transient`, 5xx is
`permanent`. When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one write
and their three replies are read together: one wait for the server per envelope instead of
three, which matters when composing threads compete for the GIL.

A connection that drops before the server has the whole message is reopened once and the
message retried; one that drops after the body was sent but before the server answered gives a
`transient` receipt with `in_doubt=True`, as the message may have been delivered.

TLS: a relay elsewhere is reached with STARTTLS unless the URL says otherwise, and a server that
does not offer it is refused, never used in plain text. A relay on loopback (the office's own
Postfix on 127.0.0.1:25) gets plain SMTP by default: the traffic never leaves the machine. A
login is never sent unencrypted to a host that is not loopback: `tls=none` with a user and
password is refused when the transport is made (see `connectors.secure_url`).

Example:
    >>> transport = SmtpTransport.from_url("smtp://officer:s3cret@relay.example.edu:587")
    >>> transport.check()  # raises SmtpConnectError saying what to fix
    'relay.example.edu'
    >>> transport.send(mails, receipts.put)  # receipts: a queue.SimpleQueue[Receipt]
    >>> transport.close()
"""

from __future__ import annotations

import base64
import queue
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from connectors.mail import Closing, Outcome, OutgoingMail, Receipt
from connectors.secure_url import LOOPBACK_HOSTS, is_loopback

Tls = Literal["starttls", "ssl", "none"]

LOST_AFTER_DATA = "connection lost after DATA: may have been delivered"

_URL_FORM = "smtp://[user:password@]host[:port][?tls=starttls|ssl|none] or smtps://..."
_DEFAULT_PORT: dict[Tls, int] = {"none": 25, "ssl": 465, "starttls": 587}
_TLS_MODES: dict[str, Tls] = {"starttls": "starttls", "ssl": "ssl", "none": "none"}
# Characters that would let an address end the SMTP command line or its <...> path early.
_UNSAFE_ADDRESS = re.compile(r"[\x00-\x1f\x7f<>]")


class SmtpConnectError(ConnectionError):
    """No usable session with the SMTP server: unreachable, TLS failed, or login refused."""


class _LostBeforeEnd(Exception):
    """The connection died before the server had the whole message: resending cannot duplicate."""


class SmtpTransport(Closing):
    """An SMTP relay behind the `MailTransport` interface.

    Args:
        host: the relay's host name or address.
        port: its port; None picks 587, 465 or 25 for starttls, ssl or none.
        tls: "starttls" (upgrade after connecting), "ssl" (TLS from the first byte) or "none";
            None: "none" for a loopback host (localhost, 127.0.0.0/8, ::1), else "starttls".
        username: log in as this user on every connection; None for no login.
        password: the user's password; never shown by `repr` or in errors.
        connections: how many connections (and sending threads) to use in parallel.
        timeout: seconds to wait on the server at each step before giving up on the connection.
        ssl_context: how to verify the server's certificate; None trusts the system's CAs.

    Raises:
        ValueError: a bad setting, or a login with tls="none" to a host that is not loopback
            (the password would cross the network unencrypted).
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        tls: Tls | None = None,
        username: str | None = None,
        password: str | None = None,
        connections: int = 4,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if tls is None:
            tls = "none" if is_loopback(host) else "starttls"
        if tls not in _TLS_MODES:
            raise ValueError(f"SMTP tls mode {tls!r} is not one of starttls, ssl, none")
        if username is not None and tls == "none" and not is_loopback(host):
            raise ValueError(
                f"SMTP login as {username!r} to {host} with tls=none would send the password "
                "unencrypted: use ?tls=starttls (port 587) or smtps:// (port 465) in the SMTP URL; "
                f"tls=none with a login is only for a relay on this machine ({LOOPBACK_HOSTS})"
            )
        if connections < 1:
            raise ValueError(f"SMTP connections must be at least 1, not {connections}")
        if timeout <= 0:
            raise ValueError(f"SMTP timeout must be a positive number of seconds, not {timeout}")
        self.host = host
        self.port = _DEFAULT_PORT[tls] if port is None else port
        self.tls: Tls = tls
        self.username = username
        self._password = password
        self.connections = connections
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname: str | None = None
        self._idle: list[smtplib.SMTP] = []
        self._idle_lock = threading.Lock()
        self._send_lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        connections: int = 4,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> SmtpTransport:
        """Build a transport from `smtp://[user:password@]host[:port][?tls=starttls|ssl|none]`.

        `smtps://` means `tls=ssl`; `smtp://` defaults to `tls=starttls`, or to `tls=none` for
        a loopback host. The default port follows the TLS mode (587, 465, 25). User and
        password are percent-decoded, so a password with `@` or `:` is written `%40`, `%3A`.

        Raises:
            ValueError: naming the part of the URL that is wrong (never echoing the password),
                or a login with `tls=none` to a host that is not loopback.
        """
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP URL scheme {parts.scheme!r} is not smtp or smtps: {_URL_FORM}")
        if not parts.hostname:
            raise ValueError(f"SMTP URL has no host: {_URL_FORM}")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError(f"SMTP URL must not have a path or #fragment: {_URL_FORM}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(
                f"SMTP URL port is not a number from 1 to 65535: {_URL_FORM}"
            ) from None
        if port == 0:
            raise ValueError(f"SMTP URL port is not a number from 1 to 65535: {_URL_FORM}")
        tls: Tls | None = "ssl" if scheme == "smtps" else None
        seen: set[str] = set()
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name != "tls":
                raise ValueError(f"SMTP URL parameter {name!r} is unknown; the only one is tls")
            if name in seen:
                raise ValueError("SMTP URL gives tls more than once")
            seen.add(name)
            if value not in _TLS_MODES:
                raise ValueError(f"SMTP URL tls={value!r} is not one of starttls, ssl, none")
            if scheme == "smtps" and value != "ssl":
                raise ValueError(f"SMTP URL smtps:// means tls=ssl, not tls={value}")
            tls = _TLS_MODES[value]
        username = None if parts.username is None else unquote(parts.username)
        password = None if parts.password is None else unquote(parts.password)
        if password is not None and not username:
            raise ValueError("SMTP URL has a password but no user name before it")
        if username and password is None:
            raise ValueError(f"SMTP URL names user {username!r} but gives no password")
        return cls(
            parts.hostname,
            port,
            tls=tls,
            username=username or None,
            password=password,
            connections=connections,
            timeout=timeout,
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        password = None if self._password is None else "***"
        return (
            f"SmtpTransport(host={self.host!r}, port={self.port}, tls={self.tls!r}, "
            f"username={self.username!r}, password={password!r}, connections={self.connections})"
        )

    def check(self) -> str:
        """Connect, say EHLO, start TLS and log in as configured, then QUIT.

        Returns:
            The first line of the server's EHLO (or HELO) answer, usually its host name.

        Raises:
            SmtpConnectError: saying which server and what went wrong (refused, TLS, login).
        """
        conn = self._connect()
        answer = (conn.ehlo_resp or conn.helo_resp or b"").decode("utf-8", "replace")
        _quit(conn)
        return answer.partition("\n")[0]

    def send(self, mails: Iterable[OutgoingMail], on_receipt: Callable[[Receipt], None]) -> None:
        """Send every mail over up to `connections` parallel connections.

        `on_receipt` is called from the sending threads, several at once, as soon as the
        server has answered each mail, so it must be thread-safe. If it raises, the other
        threads stop after their current mail and `send` re-raises the exception.

        Raises:
            SmtpConnectError: no connection could be opened at all (refused, TLS, login): a
                configuration that cannot work, so nothing is retried quietly. Mails left over
                when connections fail after others have worked get `transient` receipts.

        Returns:
            When every mail has exactly one receipt.
        """
        source = iter(mails)
        first = next(source, None)
        if first is None:
            return
        # Mails are handed over as the caller's iterable yields them, so a sender that
        # composes them lazily overlaps composing with sending; None tells a worker to stop.
        jobs: queue.SimpleQueue[OutgoingMail | None] = queue.SimpleQueue()
        jobs.put(first)
        with self._send_lock:
            run = _Run(jobs, on_receipt)
            threads = [
                threading.Thread(target=self._work, args=(run,), name=f"smtp-{i}", daemon=True)
                for i in range(self.connections)
            ]
            for thread in threads:
                thread.start()
            try:
                for mail in source:
                    if run.error is not None:
                        break
                    jobs.put(mail)
            finally:
                for _ in threads:
                    jobs.put(None)
                for thread in threads:
                    thread.join()
            if run.error is not None:
                raise run.error
            if run.connect_failure and not run.answered:
                raise SmtpConnectError(run.connect_failure)
            # Left over: put back by workers that could not connect, so never handed over.
            while not jobs.empty():
                left = jobs.get()
                if left is not None:
                    reason = run.connect_failure or "no connection to the SMTP server"
                    on_receipt(Receipt(left.key, Outcome.TRANSIENT, None, reason))

    def close(self) -> None:
        """Say QUIT on every open connection."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _quit(conn)

    def _work(self, run: _Run) -> None:
        with self._idle_lock:
            conn = self._idle.pop() if self._idle else None
        try:
            while run.error is None:
                mail = run.jobs.get()
                if mail is None:
                    break
                if conn is None:
                    try:
                        conn = self._connect()
                    except SmtpConnectError as exc:
                        # Leave the mail to a worker whose connection works; send() reports
                        # the rest as transient if none does.
                        run.jobs.put(mail)
                        run.connect_failure = str(exc)
                        break
                conn, receipt = self._deliver(conn, mail)
                run.answered = True
                run.on_receipt(receipt)
        except BaseException as exc:  # for send() to re-raise in the caller's thread
            if run.error is None:
                run.error = exc
            if conn is not None:
                conn.close()
            return
        if conn is not None:
            with self._idle_lock:
                self._idle.append(conn)

    def _deliver(
        self, conn: smtplib.SMTP, mail: OutgoingMail
    ) -> tuple[smtplib.SMTP | None, Receipt]:
        """One message on `conn`, reopening it once if it drops before the server has it all."""
        try:
            receipt = self._transact(conn, mail, first_try=True)
        except _LostBeforeEnd as lost:
            conn.close()
            try:
                conn = self._connect()
            except SmtpConnectError as exc:
                reply = f"connection lost before the message was sent ({lost}); {exc}"
                return None, Receipt(mail.key, Outcome.TRANSIENT, None, reply)
            try:
                receipt = self._transact(conn, mail, first_try=False)
            except _LostBeforeEnd as again:
                conn.close()
                reply = f"connection lost twice before the message was sent: {again}"
                return None, Receipt(mail.key, Outcome.TRANSIENT, None, reply)
        return (conn if conn.sock is not None else None), receipt

    def _transact(self, conn: smtplib.SMTP, mail: OutgoingMail, *, first_try: bool) -> Receipt:
        """MAIL, RCPT, DATA for one message; raises _LostBeforeEnd when a retry is safe."""
        options = ""
        for address in (mail.envelope_from, mail.recipient):
            if _UNSAFE_ADDRESS.search(address):
                reply = f"address {address!r} has a line break, control character or <>; fix it"
                return Receipt(mail.key, Outcome.PERMANENT, None, reply)
            if not address.isascii():
                if not conn.has_extn("smtputf8"):
                    reply = (
                        f"address {address!r} is not ASCII and the SMTP server {self.host} does "
                        "not offer SMTPUTF8; use an ASCII address or a relay that supports it"
                    )
                    return Receipt(mail.key, Outcome.PERMANENT, None, reply)
                options = " SMTPUTF8"
        if not mail.data.isascii() and conn.has_extn("8bitmime"):
            options += " BODY=8BITMIME"
        try:
            if conn.has_extn("pipelining"):
                code, text = _pipelined_envelope(conn, mail, options)
            else:
                code, text = conn.docmd("mail", f"FROM:<{mail.envelope_from}>{options}")
                if code // 100 == 2:
                    code, text = conn.docmd("rcpt", f"TO:<{mail.recipient}>")
                    if code // 100 == 2:
                        code, text = conn.docmd("data")
            if code != 354:
                if code == 421 and first_try:
                    # The server is closing (often an idle pooled connection): like a drop.
                    raise _LostBeforeEnd(_reply(code, text))
                return _refused(conn, mail.key, code, text)
            # sendall either hands over every byte, final dot included, or raises: if it
            # raises, the server cannot have taken the message.
            conn.send(_wire_format(mail.data))
        except (smtplib.SMTPException, OSError) as exc:
            raise _LostBeforeEnd(str(exc) or type(exc).__name__) from None
        try:
            code, text = conn.getreply()
        except (smtplib.SMTPException, OSError):
            conn.close()
            return Receipt(mail.key, Outcome.TRANSIENT, None, LOST_AFTER_DATA, in_doubt=True)
        if code // 100 == 2:
            return Receipt(mail.key, Outcome.SENT, code, _reply(code, text))
        return _refused(conn, mail.key, code, text)

    def _connect(self) -> smtplib.SMTP:
        """A new connection, through TLS and login as configured."""
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()  # once: it may ask DNS
        if self.tls != "none" and self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if self.tls == "ssl":
                conn = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self._local_hostname,
                    timeout=self.timeout,
                    context=self._ssl_context,
                )
            else:
                conn = smtplib.SMTP(
                    self.host, self.port, local_hostname=self._local_hostname, timeout=self.timeout
                )
            conn.ehlo_or_helo_if_needed()
            if self.tls == "starttls":
                if not conn.has_extn("starttls"):
                    raise SmtpConnectError(
                        f"SMTP server {self.host}:{self.port} does not offer STARTTLS, so "
                        "nothing was sent: use a relay that does, smtps:// if it speaks TLS "
                        "from the start (port 465), or tls=none only without a login on a "
                        "trusted network"
                    )
                conn.starttls(context=self._ssl_context)
                conn.ehlo()
            if self.username is not None:
                self._login(conn, self.username, self._password or "")
            if conn.has_extn("smtputf8"):
                conn.command_encoding = "utf-8"
        except (smtplib.SMTPException, OSError) as exc:
            if conn is not None:
                conn.close()
            raise self._connect_error(exc) from None
        return conn

    def _login(self, conn: smtplib.SMTP, username: str, password: str) -> None:
        if (username + password).isascii():
            conn.login(username, password)
            return
        # smtplib encodes credentials as ASCII; AUTH PLAIN carries UTF-8 (RFC 4616).
        if "PLAIN" not in conn.esmtp_features.get("auth", "").upper().split():
            raise SmtpConnectError(
                f"SMTP server {self.host}:{self.port} does not offer AUTH PLAIN, which a user "
                "name or password with non-ASCII characters needs; use an ASCII password"
            )
        token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
        code, text = conn.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, text)

    def _connect_error(self, exc: smtplib.SMTPException | OSError) -> SmtpConnectError:
        """Say which server, what went wrong and what to fix, without the password."""
        where = f"SMTP server {self.host}:{self.port}"
        if isinstance(exc, SmtpConnectError):
            return exc
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return SmtpConnectError(
                f"{where} refused the login as {self.username!r}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}; check the user and password in the "
                "SMTP URL"
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):  # only login raises it here
            return SmtpConnectError(
                f"{where} does not offer AUTH; remove the user and password from the SMTP URL, "
                "or use tls=starttls if it offers AUTH only over TLS"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return SmtpConnectError(
                f"{where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}"
            )
        if isinstance(exc, ssl.SSLError):
            return SmtpConnectError(
                f"TLS with {where} failed: {exc}; check the host name, the tls mode in the SMTP "
                "URL, and that the server's certificate is trusted"
            )
        return SmtpConnectError(
            f"cannot talk to {where}: {exc or type(exc).__name__}; check the host and port in "
            "the SMTP URL and that the server is running"
        )


class _Run:
    """What the workers of one `send` call share."""

    __slots__ = ("answered", "connect_failure", "error", "jobs", "on_receipt")

    def __init__(
        self,
        jobs: queue.SimpleQueue[OutgoingMail | None],
        on_receipt: Callable[[Receipt], None],
    ) -> None:
        self.jobs = jobs
        self.on_receipt = on_receipt
        self.error: BaseException | None = None
        self.connect_failure: str | None = None  # why a worker could not connect
        self.answered = False  # whether any connection got as far as an answer


def _pipelined_envelope(conn: smtplib.SMTP, mail: OutgoingMail, options: str) -> tuple[int, bytes]:
    """MAIL, RCPT and DATA sent together (RFC 2920); the first refusal, or DATA's reply.

    One round trip instead of three: the connection's thread waits for the server once per
    envelope, not after every command.
    """
    commands = (
        f"MAIL FROM:<{mail.envelope_from}>{options}\r\nRCPT TO:<{mail.recipient}>\r\nDATA\r\n"
    )
    conn.send(commands.encode(conn.command_encoding))
    replies = [conn.getreply() for _ in range(3)]
    refusal = next((reply for reply in replies[:2] if reply[0] // 100 != 2), None)
    if refusal is None:
        return replies[2]
    if replies[2][0] == 354:
        # A server that took DATA although the envelope failed: end the empty message.
        conn.send(b".\r\n")
        conn.getreply()
    return refusal


def _wire_format(data: bytes) -> bytes:
    """The DATA payload: dot-stuffed (RFC 5321 4.5.2) and ended by CRLF.CRLF."""
    if b"\n." in data:
        data = data.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


def _refused(conn: smtplib.SMTP, key: int, code: int, text: bytes) -> Receipt:
    """The receipt for a refusal at any step, leaving `conn` ready for the next message."""
    outcome = Outcome.PERMANENT if code // 100 == 5 else Outcome.TRANSIENT
    if code == 421:
        conn.close()  # the server is closing this connection
    else:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            conn.close()
    return Receipt(key, outcome, code, _reply(code, text))


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
