"""A real mail system for tests: Debian's Postfix and Dovecot, started once per test session.

Postfix (its own instance: config, queue and ports in a temporary folder, never the machine's
``/etc/postfix``) accepts mail on a free loopback port and delivers it to Maildirs, which Dovecot
(again its own instance, ``dovecot -F -c FILE``) serves over IMAP with STARTTLS and over
implicit TLS (``imaps``), with a self-signed certificate for ``localhost``.

- ``school.example.org`` is the office: ``alumni@`` and ``alumni-bounces@`` (with any
  ``+token``, ``recipient_delimiter = +``) land in the one office mailbox.
- ``alumni.example.org`` holds the alumni mailboxes in ``ALUMNI``; any other address there is
  accepted and then bounced with a real RFC 3464 delivery-status report
  (``smtpd_reject_unlisted_recipient = no``), as a school's old addresses do.
- ``away@alumni.example.org`` answers with an RFC 3834 auto-reply when the test calls
  ``MailSystem.answer_auto_replies`` (sent through Postfix to the message's Return-Path).

Fixtures: ``mail_system`` (session) and ``mail`` (per test: waits until Postfix's queue is
empty, then empties every mailbox). Both skip, saying why, when Postfix or Dovecot is not
installed or the tests do not run as root (the servers deliver and read as the ``mail`` user).
``.ci/run`` installs both.
"""

from __future__ import annotations

import contextlib
import email
import grp
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.social_servers import _self_signed

OFFICE_DOMAIN = "school.example.org"
ALUMNI_DOMAIN = "alumni.example.org"
OFFICE = f"alumni@{OFFICE_DOMAIN}"
OFFICE_BOUNCES = f"alumni-bounces@{OFFICE_DOMAIN}"
ALUMNI = ("ada", "ben", "cleo", "dara", "eli", "away")
AUTO_REPLIER = f"away@{ALUMNI_DOMAIN}"
STARTUP_SECONDS = 60
POSTFIX = Path("/usr/sbin/postfix")
DOVECOT = Path("/usr/sbin/dovecot")

# Only what these tests use, none chrooted (the queue is a temporary folder).
_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
virtual   unix  - n n -     - virtual
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], bool],
    what: str,
    seconds: float = STARTUP_SECONDS,
    *,
    detail: Callable[[], str] = str,
) -> None:
    """Return once ``condition()`` holds; fail the test naming ``what`` (and ``detail()``,
    e.g. a server's log) after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {seconds} s\n{detail()}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Account:
    """One mailbox: its address, IMAP login and Maildir."""

    address: str
    password: str
    home: Path

    @property
    def maildir(self) -> Path:
        return self.home / "Maildir"

    def messages(self, folder: str = "") -> list[bytes]:
        """The raw messages in ``folder`` (Maildir++ name like ``.Processed``; "" is INBOX),
        oldest first, read from disk."""
        base = self.maildir / folder if folder else self.maildir
        files = [
            p for sub in ("new", "cur") if (base / sub).is_dir() for p in (base / sub).iterdir()
        ]
        return [p.read_bytes() for p in sorted(files, key=lambda p: p.name)]


def _greets(port: int, greeting: bytes) -> bool:
    """Whether a server on ``port`` accepts a connection and greets with ``greeting``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            return sock.recv(200).startswith(greeting)
    except OSError:
        return False


def _await_server(process: subprocess.Popen[bytes], port: int, greeting: bytes, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _greets(port, greeting):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{process.args!r} did not start (port {port}):\n{tail}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes], stop_command: list[str] | None = None) -> None:
    """Stop a server started in its own process group: politely, then by its group's id."""
    if stop_command is not None:
        subprocess.run(stop_command, capture_output=True, check=False)
    elif process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Postfix:
    """A Postfix instance of its own; ``port`` takes SMTP on 127.0.0.1."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def config(self) -> Path:
        return self.folder / "conf"

    def queue_empty(self) -> bool:
        """Whether no message waits anywhere in the queue (all delivered or bounced)."""
        queue = self.folder / "queue"
        return not any(
            any(path.is_file() for path in (queue / name).rglob("*"))
            for name in ("maildrop", "incoming", "active", "deferred", "hold")
        )

    def log(self) -> str:
        path = self.folder / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        _stop(self.process, [str(POSTFIX), "-c", str(self.config), "stop"])


def start_postfix(
    folder: Path, mailboxes: dict[str, str], *, mail_base: Path, mail_uid: int, mail_gid: int
) -> Postfix:
    """Start Postfix delivering ``mailboxes`` (address -> Maildir under ``mail_base``)."""
    conf, queue, data = folder / "conf", folder / "queue", folder / "data"
    for path in (conf, queue, data):
        path.mkdir(parents=True)
    shutil.chown(data, "postfix")
    port = free_port()
    domains = ", ".join(sorted({address.rpartition("@")[2] for address in mailboxes}))
    (conf / "vmailbox").write_text("".join(f"{a} {m}\n" for a, m in mailboxes.items()))
    settings = {
        "compatibility_level": "3.6",
        "config_directory": conf,
        "queue_directory": queue,
        "data_directory": data,
        "meta_directory": "/etc/postfix",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "myhostname": "mx.example.org",
        "mydomain": "example.org",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mydestination": "",
        "mynetworks": "127.0.0.0/8",
        "alias_maps": "",
        "alias_database": "",
        "local_recipient_maps": "",
        "relay_domains": "",
        "default_transport": "error:5.4.4 no outside mail from the tests",
        "recipient_delimiter": "+",
        "virtual_mailbox_domains": domains,
        "virtual_mailbox_maps": f"texthash:{conf / 'vmailbox'}",
        "virtual_mailbox_base": mail_base,
        "virtual_uid_maps": f"static:{mail_uid}",
        "virtual_gid_maps": f"static:{mail_gid}",
        "virtual_minimum_uid": "1",
        # Accept unknown alumni addresses, then bounce them: real RFC 3464 reports.
        "smtpd_reject_unlisted_recipient": "no",
        "maillog_file": folder / "maillog",
        "maillog_file_prefixes": folder,
    }
    (conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
    (conf / "master.cf").write_text(_MASTER_CF.format(port=port))
    log = folder / "maillog"
    process = subprocess.Popen(
        [str(POSTFIX), "-c", str(conf), "start-fg"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _await_server(process, port, b"220 ", log)
    return Postfix(folder, port, process)


@dataclass
class Dovecot:
    """A Dovecot instance of its own: ``port`` offers IMAP (STARTTLS when ``tls``),
    ``tls_port`` implicit TLS (0 without ``tls``)."""

    config: Path
    port: int
    tls_port: int
    process: subprocess.Popen[bytes]

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm`` against this instance; its output."""
        done = subprocess.run(
            ["doveadm", "-c", str(self.config), *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def stop(self) -> None:
        _stop(self.process)


def start_dovecot(
    folder: Path,
    accounts: list[Account],
    *,
    mail_uid: int,
    mail_gid: int,
    certificate: tuple[Path, Path] | None,
    capabilities: str | None = None,
) -> Dovecot:
    """Start Dovecot serving ``accounts``' Maildirs.

    Args:
        certificate: (cert, key) files: STARTTLS and an imaps port; None: plain IMAP only.
        capabilities: replaces what the server announces after login (e.g. without MOVE).
    """
    folder.mkdir(parents=True)
    (folder / "run").mkdir()
    (folder / "state").mkdir()
    users = folder / "users"
    users.write_text(
        "".join(
            f"{a.address}:{{PLAIN}}{a.password}:{mail_uid}:{mail_gid}::{a.home}::\n"
            for a in accounts
        )
    )
    port, tls_port = free_port(), (free_port() if certificate else 0)
    listeners = f"inet_listener imap {{\n    port = {port}\n  }}\n"
    if certificate is not None:
        listeners += f"  inet_listener imaps {{\n    port = {tls_port}\n    ssl = yes\n  }}\n"
        tls = f"ssl = yes\nssl_cert = <{certificate[0]}\nssl_key = <{certificate[1]}\n"
    else:
        tls = "ssl = no\n"
    config = folder / "dovecot.conf"
    config.write_text(
        f"""base_dir = {folder / "run"}
state_dir = {folder / "state"}
instance_name = alumni-test-{port}
protocols = imap
listen = 127.0.0.1
log_path = {folder / "dovecot.log"}
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
{tls}{f"imap_capability = {capabilities}" if capabilities else ""}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
  {listeners}}}
"""
    )
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _await_server(process, port, b"* OK", folder / "dovecot.log")
    return Dovecot(config, port, tls_port, process)


@dataclass
class MailSystem:
    """The running Postfix and Dovecot, the accounts they serve, and how to reach them."""

    folder: Path
    postfix: Postfix
    dovecot: Dovecot
    accounts: dict[str, Account]
    certificate: Path  # the self-signed certificate Dovecot presents (for localhost)
    mail_uid: int
    mail_gid: int
    _answered: set[str] = field(default_factory=set)

    @property
    def office(self) -> Account:
        return self.accounts[OFFICE]

    @property
    def smtp_url(self) -> str:
        """``ALUMNI_SMTP_URL`` for this Postfix (loopback: plain SMTP, no login)."""
        return f"smtp://127.0.0.1:{self.postfix.port}"

    def imap_url(self, account: Account | None = None, *, scheme: str = "imaps") -> str:
        """``ALUMNI_IMAP_URL`` of ``account`` (the office by default) on ``localhost``:
        ``imaps`` (implicit TLS) or ``imap`` (STARTTLS)."""
        who = account or self.office
        port = self.dovecot.tls_port if scheme == "imaps" else self.dovecot.port
        user = quote(who.address, safe="")
        return f"{scheme}://{user}:{quote(who.password, safe='')}@localhost:{port}/INBOX"

    def client_context(self) -> ssl.SSLContext:
        """A TLS context that trusts Dovecot's certificate."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def send(self, message: EmailMessage | bytes, *, sender: str, to: list[str]) -> None:
        """Submit one message to Postfix as a mail client would (``sender`` "" for <>)."""
        if isinstance(message, EmailMessage):
            data = message.as_bytes(policy=policy.SMTP)
        else:  # as a mail client sends it: CRLF line ends (a Maildir copy has LF)
            data = re.sub(rb"\r?\n", b"\r\n", message)
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=30) as client:
            client.sendmail(sender, to, data)

    def wait_for_mail(self, account: Account, count: int, folder: str = "") -> list[bytes]:
        """The messages in ``account``'s ``folder`` once there are ``count`` of them."""
        wait_for(
            lambda: len(account.messages(folder)) >= count,
            f"{count} message(s) in {account.address} {folder or 'INBOX'}",
            detail=lambda: self.postfix.log()[-3000:],
        )
        return account.messages(folder)

    def answer_auto_replies(self) -> int:
        """Answer each new message of the auto-replying mailbox once, as an out-of-office
        responder does: an RFC 3834 reply to its Return-Path, from <>. Return how many."""
        away = self.accounts[AUTO_REPLIER]
        answered = 0
        for raw in away.messages():
            original = email.message_from_bytes(raw, policy=policy.default)
            message_id = str(original["Message-ID"])
            if message_id in self._answered:
                continue
            return_path = str(original["Return-Path"]).strip("<> ")
            reply = EmailMessage()
            reply["From"] = f"Dara Away <{AUTO_REPLIER}>"
            reply["To"] = return_path
            reply["Subject"] = f"Auto: {original['Subject']}"
            reply["Date"] = formatdate(localtime=False)
            reply["Message-ID"] = make_msgid(domain=ALUMNI_DOMAIN)
            reply["In-Reply-To"] = message_id
            reply["References"] = message_id
            reply["Auto-Submitted"] = "auto-replied"
            reply.set_content("I am out of the office until Monday, with no access to email.")
            self.send(reply, sender="", to=[return_path])
            self._answered.add(message_id)
            answered += 1
        return answered

    def reset(self) -> None:
        """Wait for Postfix to finish what it holds, then empty every mailbox (Maildirs and
        Dovecot's indexes are removed; the next delivery or login makes them anew)."""
        wait_for(
            self.postfix.queue_empty,
            "Postfix's queue to empty",
            detail=lambda: self.postfix.log()[-3000:],
        )
        for account in self.accounts.values():
            shutil.rmtree(account.maildir, ignore_errors=True)
        self._answered.clear()


def _missing() -> str | None:
    if not POSTFIX.exists() or not DOVECOT.exists():
        return (
            "Postfix and Dovecot are not installed: apt-get install -y postfix dovecot-imapd "
            "(.ci/run does)"
        )
    if os.geteuid() != 0:
        return "Postfix and Dovecot tests run as root (the servers deliver as the mail user)"
    return None


@contextlib.contextmanager
def running_mail_system() -> Iterator[MailSystem]:
    """Start Postfix and Dovecot in a temporary folder; stop both and remove it at the end."""
    folder = Path(tempfile.mkdtemp(prefix="alumni-mail-"))
    folder.chmod(0o755)  # the servers' own users read their configuration and mail below it
    mail_uid, mail_gid = pwd.getpwnam("mail").pw_uid, grp.getgrnam("mail").gr_gid
    mail = folder / "mail"
    mail.mkdir(mode=0o755)
    # '@', '%', a space and non-ASCII: the URL must percent-encode it, the login send it whole
    password = "p@ss 5% wörd"
    accounts = [Account(OFFICE, password, mail / "office")] + [
        Account(f"{name}@{ALUMNI_DOMAIN}", f"{name}-pw", mail / name) for name in ALUMNI
    ]
    for account in accounts:
        account.home.mkdir(mode=0o700)
        os.chown(account.home, mail_uid, mail_gid)
    mailboxes = {a.address: f"{a.home.name}/Maildir/" for a in accounts}
    mailboxes[OFFICE_BOUNCES] = mailboxes[OFFICE]
    cert_pem, key_pem = _self_signed("localhost")
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    (folder / "key.pem").chmod(0o600)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        postfix = start_postfix(
            folder / "postfix", mailboxes, mail_base=mail, mail_uid=mail_uid, mail_gid=mail_gid
        )
        stack.callback(postfix.stop)
        dovecot = start_dovecot(
            folder / "dovecot",
            accounts,
            mail_uid=mail_uid,
            mail_gid=mail_gid,
            certificate=(folder / "cert.pem", folder / "key.pem"),
        )
        stack.callback(dovecot.stop)
        yield MailSystem(
            folder,
            postfix,
            dovecot,
            {a.address: a for a in accounts},
            folder / "cert.pem",
            mail_uid,
            mail_gid,
        )


@pytest.fixture(scope="session")
def mail_system() -> Iterator[MailSystem]:
    """Postfix and Dovecot for the whole session (skipped, with the reason, when unavailable)."""
    reason = _missing()
    if reason is not None:
        pytest.skip(reason)
    with running_mail_system() as system:
        yield system


@pytest.fixture
def mail(mail_system: MailSystem) -> MailSystem:
    """The session's mail system with every mailbox empty."""
    mail_system.reset()
    return mail_system
