"""ImapMailbox against a real Dovecot fed by a real Postfix (tests/mail_servers.py).

A configuration that cannot work stops at once with the reason and never the password; reading
leaves mail unread; a move never loses or deletes another message, with or without IMAP MOVE.
"""

from __future__ import annotations

import email
import ssl
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from connectors.imap import ImapAddress, ImapConfigError, ImapMailbox
from tests.mail_servers import (
    OFFICE,
    Dovecot,
    MailSystem,
    free_port,
    start_dovecot,
    wait_for,
)

SECRET = "p@ss:w%rd/é"
SECRET_IN_URL = "p%40ss%3Aw%25rd%2F%C3%A9"
# What Dovecot announces after login, less MOVE (UIDPLUS stays: UID EXPUNGE of one message).
WITHOUT_MOVE = "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS"


def note(n: int, to: str = OFFICE) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Alum {n} <alum{n}@alumni.example.org>"
    message["To"] = to
    message["Subject"] = f"Note {n}"
    message["Message-ID"] = f"<note-{n}@alumni.example.org>"
    message.set_content(f"Note number {n}.")
    return message


def deliver(mail: MailSystem, count: int) -> None:
    for n in range(count):
        mail.send(note(n), sender=f"alum{n}@alumni.example.org", to=[OFFICE])
    mail.wait_for_mail(mail.office, count)


def message_ids(raws: list[bytes]) -> list[str]:
    return [str(email.message_from_bytes(r, policy=policy.default)["Message-ID"]) for r in raws]


@pytest.fixture(scope="module")
def plain_dovecot(mail_system: MailSystem) -> Iterator[Dovecot]:
    """A second Dovecot on the same Maildirs: no TLS at all, and no MOVE after login."""
    server = start_dovecot(
        mail_system.folder / f"dovecot-plain-{free_port()}",
        list(mail_system.accounts.values()),
        mail_uid=mail_system.mail_uid,
        mail_gid=mail_system.mail_gid,
        certificate=None,
        capabilities=WITHOUT_MOVE,
    )
    yield server
    server.stop()


def plain_url(mail: MailSystem, server: Dovecot, query: str = "") -> str:
    user, password = quote(OFFICE, safe=""), quote(mail.office.password, safe="")
    return f"imap://{user}:{password}@127.0.0.1:{server.port}/INBOX{query}"


# --- the URL ------------------------------------------------------------------------------


def test_the_url_is_percent_decoded_with_the_defaults_of_each_scheme() -> None:
    address = ImapAddress.from_url(
        f"imaps://office%40school.edu:{SECRET_IN_URL}@imap.school.edu/Alumni%20Replies"
    )
    assert (address.username, address.password) == ("office@school.edu", SECRET)
    assert (address.host, address.port, address.tls) == ("imap.school.edu", 993, "ssl")
    assert address.mailbox == "Alumni Replies"
    plain = ImapAddress.from_url(f"IMAP://me:{SECRET_IN_URL}@imap.school.edu")
    assert (plain.port, plain.tls, plain.mailbox) == (143, None, "INBOX")
    assert ImapAddress.from_url("imap://me:pw@imap.school.edu:1143/?tls=starttls").tls == "starttls"
    assert ImapAddress.from_url("imap://me:pw@127.0.0.1/?tls=none").tls == "none"
    for shown in (repr(address), address.shown(), str(address)):
        assert SECRET not in shown and SECRET_IN_URL not in shown
    assert address.shown() == "imaps://office%40school.edu@imap.school.edu:993/Alumni%20Replies"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"pop3://me:{SECRET_IN_URL}@mail.school.edu/", "scheme 'pop3' is not imap or imaps"),
        (f"imaps://me:{SECRET_IN_URL}@/INBOX", "it has no host"),
        (f"imaps://me:{SECRET_IN_URL}@mail.school.edu:99999/", "port is not a number"),
        ("imaps://me@mail.school.edu/", "needs a user name and a password"),
        (f"imaps://me:{SECRET_IN_URL}@mail.school.edu/?tls=starttls", "leave out ?tls="),
        (f"imap://me:{SECRET_IN_URL}@mail.school.edu/?tls=maybe", "tls='maybe' is not"),
        (f"imap://me:{SECRET_IN_URL}@mail.school.edu/?folder=x", "parameter 'folder' is unknown"),
        (f"imap://me:{SECRET_IN_URL}@mail.school.edu/?tls=none", "would send the password"),
    ],
)
def test_a_bad_url_is_refused_naming_it_without_the_password(url: str, reason: str) -> None:
    with pytest.raises(ImapConfigError) as caught:
        ImapAddress.from_url(url)
    message = str(caught.value)
    assert reason in message and "imap[s]://user:password@host" in message
    assert SECRET_IN_URL not in message and SECRET not in message


# --- reading, moving, flagging -----------------------------------------------------------------


def test_reading_leaves_mail_unread_and_a_move_keeps_every_message(mail: MailSystem) -> None:
    deliver(mail, 3)
    with ImapMailbox.open(mail.imap_url(), ssl_context=mail.client_context()) as box:
        assert box.encrypted
        uidvalidity = box.select()
        uids = box.uids_after(0)
        assert len(uids) == 3 and uidvalidity > 0
        assert box.uids_after(uids[0]) == uids[1:]
        assert box.uids_after(uids[-1]) == []  # "n:*" would have answered the last UID
        fetched = [box.fetch(uid) for uid in uids]
        ids = message_ids([f.raw for f in fetched if f is not None])
        assert all(f is not None and f.received_at.utcoffset() == timedelta(0) for f in fetched)
        assert sorted(ids) == [f"<note-{n}@alumni.example.org>" for n in range(3)]
        assert all("\\Seen" not in box.flags(uid) for uid in uids)

        assert box.move(uids[0], "Processed")  # the folder is made on first use
        assert not box.move(uids[0], "Processed")  # already gone: nothing to do
        assert box.fetch(uids[0]) is None
        box.add_flags(uids[1], ["\\Flagged", "$AlumniUnparsed"])
        assert {"\\Flagged", "$AlumniUnparsed"} <= box.flags(uids[1])
        assert box.select() == uidvalidity

    assert message_ids(mail.office.messages(".Processed")) == ids[:1]
    assert sorted(message_ids(mail.office.messages())) == sorted(ids[1:])  # none lost or doubled


def test_imap_url_upgrades_with_starttls_when_the_server_offers_it(mail: MailSystem) -> None:
    deliver(mail, 1)
    with ImapMailbox.open(mail.imap_url(scheme="imap"), ssl_context=mail.client_context()) as box:
        assert box.encrypted
        box.select()
        assert len(box.uids_after(0)) == 1


def test_without_move_one_message_goes_by_copy_and_uid_expunge_of_that_uid_alone(
    mail: MailSystem, plain_dovecot: Dovecot
) -> None:
    deliver(mail, 2)
    # A loopback server without STARTTLS is used in plain text: the traffic stays on the machine.
    with ImapMailbox.open(plain_url(mail, plain_dovecot)) as box:
        assert not box.encrypted
        box.select()
        first, second = box.uids_after(0)
        moved, kept = (
            message_ids([getattr(box.fetch(uid), "raw", b"")])[0] for uid in (first, second)
        )
        box.add_flags(second, ["\\Deleted"])  # an officer's deletion, not yet expunged
        assert box.move(first, "Processed")
        assert box.uids_after(0) == [second]  # still there: only the moved UID was expunged
    assert message_ids(mail.office.messages(".Processed")) == [moved]
    assert message_ids(mail.office.messages()) == [kept]


def test_a_done_folder_the_server_refuses_stops_with_its_reason_and_moves_nothing(
    mail: MailSystem,
) -> None:
    deliver(mail, 1)
    with ImapMailbox.open(mail.imap_url(), ssl_context=mail.client_context()) as box:
        box.select()
        (uid,) = box.uids_after(0)
        with pytest.raises(ImapConfigError, match="cannot create the folder 'Done/Items'"):
            box.move(uid, "Done/Items")
        assert box.uids_after(0) == [uid]


def test_a_mailbox_that_does_not_exist_stops_with_its_name(mail: MailSystem) -> None:
    url = mail.imap_url().replace("/INBOX", "/Alumni%20Replies")
    with (
        ImapMailbox.open(url, ssl_context=mail.client_context()) as box,
        pytest.raises(ImapConfigError, match="cannot open the mailbox 'Alumni Replies'"),
    ):
        box.select()


# --- configurations that cannot work: at once, with the reason, never the password -------------


def dovecot_auth_failures(mail: MailSystem) -> int:
    log = (mail.dovecot.config.parent / "dovecot.log").read_text(errors="replace")
    return log.count("auth failed")


def test_a_wrong_password_stops_at_once_with_the_reason(mail: MailSystem) -> None:
    before = dovecot_auth_failures(mail)
    url = mail.imap_url().replace(quote(mail.office.password, safe=""), SECRET_IN_URL)
    with pytest.raises(ImapConfigError) as caught:
        ImapMailbox.open(url, ssl_context=mail.client_context())
    message = str(caught.value)
    assert f"the server refused the login as '{OFFICE}'" in message
    assert "check the user name and password" in message
    assert SECRET not in message and SECRET_IN_URL not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    # One attempt, never retried (Dovecot logs each failed login when the client goes).
    wait_for(lambda: dovecot_auth_failures(mail) > before, "the failed login in Dovecot's log")
    assert dovecot_auth_failures(mail) == before + 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("imaps to a port without TLS", "TLS failed"),
        ("certificate nobody vouches for", "certificate is not trusted"),
        ("starttls asked of a server without it", "does not offer STARTTLS"),
    ],
)
def test_tls_that_cannot_be_had_stops_at_once_with_the_reason(
    mail: MailSystem, plain_dovecot: Dovecot, case: str, reason: str
) -> None:
    context: ssl.SSLContext | None = mail.client_context()
    if case == "imaps to a port without TLS":
        url = mail.imap_url().replace(str(mail.dovecot.tls_port), str(mail.dovecot.port))
    elif case == "certificate nobody vouches for":
        url, context = mail.imap_url(), ssl.create_default_context()  # the system's CAs only
    else:
        url = plain_url(mail, plain_dovecot, "?tls=starttls")
    with pytest.raises(ImapConfigError, match=reason) as caught:
        ImapMailbox.open(url, ssl_context=context)
    assert mail.office.password not in str(caught.value)
    assert quote(mail.office.password, safe="") not in str(caught.value)


def test_an_unknown_host_or_a_closed_port_stops_at_once_with_the_reason() -> None:
    with pytest.raises(ImapConfigError, match=r"the host 'no-such-host\.invalid' is not known"):
        ImapMailbox.open(f"imaps://me:{SECRET_IN_URL}@no-such-host.invalid/")
    port = free_port()
    with pytest.raises(ImapConfigError, match=f"nothing answers at 127.0.0.1 port {port}"):
        ImapMailbox.open(f"imap://me:{SECRET_IN_URL}@127.0.0.1:{port}/")
