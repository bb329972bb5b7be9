"""MaildirTransport, read back with Python's own Maildir reader."""

from __future__ import annotations

import email
import mailbox
import threading
from pathlib import Path

from connectors.mail import Outcome, OutgoingMail, Receipt
from connectors.maildir import MaildirTransport


def make_mail(key: int, body: str = "See you on campus, à bientôt.") -> OutgoingMail:
    recipient = f"alum{key}@example.org"
    data = (
        "From: Alumni Office <officer@alumni.test>\r\n"
        f"To: <{recipient}>\r\n"
        f"Subject: Class of 2015 reunion ({key})\r\n"
        f"Message-ID: <d-{key}@alumni.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Dear alum {key},\r\n"
        ".a line that starts with a dot\r\n"
        f"{body}\r\n"
    ).encode()
    return OutgoingMail(key, f"officer+b-{key}@alumni.test", recipient, data)


def send(outbox: MaildirTransport, mails: list[OutgoingMail]) -> list[Receipt]:
    receipts: list[Receipt] = []
    outbox.send(mails, receipts.append)
    return receipts


def test_messages_are_readable_by_a_maildir_reader(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "alumni"  # parents are made too
    mails = [make_mail(key) for key in (3, 1, 2)]
    callers: set[int] = set()
    receipts: list[Receipt] = []

    def mark(receipt: Receipt) -> None:
        callers.add(threading.get_ident())
        receipts.append(receipt)

    MaildirTransport(path).send(mails, mark)

    assert [(r.key, r.outcome) for r in receipts] == [
        (3, Outcome.SENT),
        (1, Outcome.SENT),
        (2, Outcome.SENT),
    ]
    assert callers == {threading.get_ident()}
    box = mailbox.Maildir(path, create=False)
    assert sorted(box.keys()) == ["1.delivery.alumni", "2.delivery.alumni", "3.delivery.alumni"]
    for mail in mails:
        stored = box[MaildirTransport.file_name(mail.key)]
        assert stored.get_subdir() == "new"
        assert stored["Return-Path"] == f"<{mail.envelope_from}>"
        assert stored["Delivered-To"] == mail.recipient
        assert stored["Message-ID"] == f"<d-{mail.key}@alumni.test>"
        raw = box.get_bytes(MaildirTransport.file_name(mail.key))
        head = f"Return-Path: <{mail.envelope_from}>\nDelivered-To: {mail.recipient}\n".encode()
        assert raw == head + mail.data.replace(b"\r\n", b"\n")
        assert email.message_from_bytes(raw)["Subject"] == f"Class of 2015 reunion ({mail.key})"
    assert list((path / "tmp").iterdir()) == []
    assert {(f.stat().st_mode & 0o777) for f in (path / "new").iterdir()} == {0o600}


def test_same_key_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    outbox = MaildirTransport(tmp_path)
    send(outbox, [make_mail(1, "first"), make_mail(2)])
    receipts = send(outbox, [make_mail(1, "second")])

    assert [(r.key, r.outcome) for r in receipts] == [(1, Outcome.SENT)]
    box = mailbox.Maildir(tmp_path, create=False)
    assert len(box) == 2
    assert b"second" in box.get_bytes("1.delivery.alumni")
    assert b"first" not in box.get_bytes("1.delivery.alumni")


def test_same_key_replaces_a_message_a_mail_client_has_read(tmp_path: Path) -> None:
    outbox = MaildirTransport(tmp_path)
    send(outbox, [make_mail(1, "first")])
    box = mailbox.Maildir(tmp_path, create=False)
    seen = box["1.delivery.alumni"]
    seen.set_subdir("cur")
    seen.add_flag("S")
    box["1.delivery.alumni"] = seen  # what a mail client does on reading it

    send(outbox, [make_mail(1, "second")])

    box = mailbox.Maildir(tmp_path, create=False)
    assert box.keys() == ["1.delivery.alumni"]
    again = box["1.delivery.alumni"]
    assert (again.get_subdir(), again.get_flags()) == ("cur", "S")
    assert b"second" in box.get_bytes("1.delivery.alumni")
    assert list((tmp_path / "new").iterdir()) == []


def test_address_that_would_forge_headers_is_refused(tmp_path: Path) -> None:
    outbox = MaildirTransport(tmp_path)
    forged = OutgoingMail(9, "officer@alumni.test", "ada@example.org\nBcc: all@example.org", b"x")
    receipts = send(outbox, [forged, make_mail(1)])

    assert [(r.key, r.outcome) for r in receipts] == [(9, Outcome.PERMANENT), (1, Outcome.SENT)]
    assert "line break" in receipts[0].reply
    assert mailbox.Maildir(tmp_path, create=False).keys() == ["1.delivery.alumni"]


def test_empty_batch_writes_nothing(tmp_path: Path) -> None:
    outbox = MaildirTransport(tmp_path)
    assert send(outbox, []) == []
    outbox.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cur", "new", "tmp"]
