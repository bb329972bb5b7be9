"""Reading the office's mailbox, end to end through a real Postfix and Dovecot
(tests/mail_servers.py), on the real classifier and recorder (``alumni.tracking.record``).

The whole path an officer takes: a campaign and an event invite go out through Postfix to
mailboxes, unknown addresses (real RFC 3464 bounces) and an auto-replier; replies, an ARF
report, a mailto unsubscribe, an iTIP REPLY and a message that cannot be parsed come back
through Postfix; ``alumni track`` runs twice at once (two processes) and twice in a row. Then
the mechanism's corners against the same servers: two readers at once, a crash between the
commit and the move, and a mailbox the server renumbered (new UIDVALIDITY).
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import sqlalchemy as sa
import vobject
from dateutil import tz as dateutil_tz
from icalendar import Calendar
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.models import (
    ContactPoint,
    Delivery,
    InboundMessage,
    MailboxCursor,
    Response,
    Rsvp,
    table_of,
    utcnow,
)
from alumni.settings import get_settings
from alumni.tracking.inbox import InboxSummary, claim_and_track, mailbox_key, read_mailbox
from alumni.tracking.record import TrackingContext
from connectors.imap import ImapConfigError, ImapMailbox
from tests.factories import add_alumnus, daytime_zone
from tests.mail_servers import ALUMNI_DOMAIN, OFFICE, MailSystem

ROOT = Path(__file__).resolve().parents[2]
_IM = table_of(InboundMessage)
_R = table_of(Response)
_D = table_of(Delivery)
_C = table_of(MailboxCursor)
_CP = table_of(ContactPoint)
runner = CliRunner()


def address(name: str) -> str:
    return f"{name}@{ALUMNI_DOMAIN}"


@pytest.fixture
def office(mail: MailSystem, monkeypatch: pytest.MonkeyPatch) -> MailSystem:
    """The office as configured in production: its From, Postfix for sending, Dovecot (imaps)
    for reading, the certificate trusted as a system CA would be (SSL_CERT_FILE)."""
    monkeypatch.setenv("ALUMNI_FROM", f"Alumni Office <{OFFICE}>")
    monkeypatch.setenv("ALUMNI_SMTP_URL", mail.smtp_url)
    monkeypatch.setenv("ALUMNI_IMAP_URL", mail.imap_url())
    monkeypatch.setenv("SSL_CERT_FILE", str(mail.certificate))
    get_settings.cache_clear()
    return mail


def letter(
    sender: str, text: str, *, subject: str = "Hello", answers: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = OFFICE
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=ALUMNI_DOMAIN)
    if answers:
        message["In-Reply-To"] = answers
        message["References"] = answers
    message.set_content(text)
    return message


def broken_calendar_answer(sender: str) -> EmailMessage:
    """A calendar REPLY whose iCalendar is cut short: it cannot be parsed."""
    message = letter(sender, "", subject="Accepted: the picnic")
    message.set_content(
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{sender}\r\n",
        subtype="calendar",
        params={"method": "REPLY"},
    )
    return message


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def count(url: str, table: sa.Table, *where: Any) -> int:
    with engine_for(url).connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(table).where(*where)
            ).scalar_one()
        )


def response_kinds(url: str) -> Counter[str]:
    with engine_for(url).connect() as connection:
        return Counter(connection.execute(sa.select(_R.c.kind)).scalars())


def open_office(mail: MailSystem) -> ImapMailbox:
    return ImapMailbox.open(mail.imap_url(), ssl_context=mail.client_context())


def read_once(mail: MailSystem, url: str, worker: str = "test") -> InboxSummary:
    """One run of the reader, as the flow makes it."""
    with open_office(mail) as box:
        return read_mailbox(
            engine_for(url),
            box,
            context=TrackingContext.from_settings(get_settings()),
            done_folder="Processed",
            worker=worker,
        )


def in_both_folders(mail: MailSystem) -> tuple[int, int]:
    return len(mail.office.messages()), len(mail.office.messages(".Processed"))


# --- the mechanism, against Dovecot, on SQLite and PostgreSQL ----------------------------------


def test_two_readers_at_once_handle_each_message_once(db_url: str, office: MailSystem) -> None:
    senders = [f"alum{n}@{ALUMNI_DOMAIN}" for n in range(12)]
    for n, sender in enumerate(senders):
        add_alumnus(db_url, f"A{n}", email=sender)
        office.send(letter(sender, f"Hello from {n}"), sender=sender, to=[OFFICE])
    office.wait_for_mail(office.office, 12)
    start = threading.Barrier(2)
    summaries: list[InboxSummary] = []

    def reader(name: str) -> None:
        with open_office(office) as box:
            start.wait()
            summaries.append(
                read_mailbox(
                    engine_for(db_url),
                    box,
                    context=TrackingContext.from_settings(get_settings()),
                    done_folder="Processed",
                    worker=name,
                )
            )

    threads = [threading.Thread(target=reader, args=(f"reader-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(summaries) == 2
    assert sum(s.handled for s in summaries) == 12
    assert sum(s.moved for s in summaries) == 12  # one move each, by one reader
    assert response_kinds(db_url) == Counter({"reply": 12})
    assert count(db_url, _IM) == 12 and count(db_url, _IM, _IM.c.moved_at.is_(None)) == 0
    assert in_both_folders(office) == (0, 12)


def test_a_crash_between_commit_and_move_is_moved_by_the_rerun_and_handled_once(
    db_url: str, office: MailSystem
) -> None:
    ada = address("ada")
    add_alumnus(db_url, "ADA", email=ada)
    office.send(letter(ada, "Is the reunion on a Saturday?"), sender=ada, to=[OFFICE])
    office.wait_for_mail(office.office, 1)
    # The pieces of one run, stopping after the commit: the process died before the move.
    with open_office(office) as box:
        uidvalidity = box.select()
        (uid,) = box.uids_after(0)
        fetched = box.fetch(uid)
        assert fetched is not None
        claim = claim_and_track(
            engine_for(db_url),
            fetched.raw,
            mailbox=mailbox_key(box.address),
            uidvalidity=uidvalidity,
            uid=uid,
            context=TrackingContext.from_settings(get_settings()),
            worker="crashed",
            received=fetched.received_at,
            now=utcnow(),
        )
    assert claim.outcome == "handled" and claim.tracked is not None
    assert in_both_folders(office) == (1, 0)

    rerun = read_once(office, db_url)

    assert (rerun.handled, rerun.moved) == (0, 1)
    assert response_kinds(db_url) == Counter({"reply": 1})
    assert count(db_url, _IM) == 1 and count(db_url, _IM, _IM.c.moved_at.is_not(None)) == 1
    assert in_both_folders(office) == (0, 1)
    again = read_once(office, db_url)
    assert (again.handled, again.moved, again.already_handled) == (0, 0, 0)


def test_a_renumbered_mailbox_is_read_again_from_the_start_and_nothing_is_handled_twice(
    db_url: str, office: MailSystem
) -> None:
    ada, ben = address("ada"), address("ben")
    add_alumnus(db_url, "ADA", email=ada)
    add_alumnus(db_url, "BEN", email=ben)
    office.send(letter(ada, "First note"), sender=ada, to=[OFFICE])
    office.send(broken_calendar_answer(ben), sender=ben, to=[OFFICE])
    office.wait_for_mail(office.office, 2)
    first = read_once(office, db_url)
    assert first.counts == {"reply": {"handled": 1}, "calendar": {"unparsed": 1}}
    assert [u.sender for u in first.unparsed] == [ben]
    assert in_both_folders(office) == (1, 1)  # the unparsed one stays
    # A third message is handled but not moved (a crash), then the server renumbers INBOX.
    office.send(letter(ben, "Second note"), sender=ben, to=[OFFICE])
    office.wait_for_mail(office.office, 2)
    with open_office(office) as box:
        old_uidvalidity = box.select()
        uid = box.uids_after(first.last_uid)[0]
        fetched = box.fetch(uid)
        assert fetched is not None
        claim_and_track(
            engine_for(db_url),
            fetched.raw,
            mailbox=mailbox_key(box.address),
            uidvalidity=old_uidvalidity,
            uid=uid,
            context=TrackingContext.from_settings(get_settings()),
            worker="crashed",
            received=fetched.received_at,
            now=utcnow(),
        )
    office.dovecot.doveadm(
        "mailbox", "update", "-u", OFFICE, "--uid-validity", str(old_uidvalidity + 1000), "INBOX"
    )
    office.send(letter(ada, "Third note"), sender=ada, to=[OFFICE])
    office.wait_for_mail(office.office, 3)

    after = read_once(office, db_url)

    assert after.restarted and after.uidvalidity == old_uidvalidity + 1000
    assert after.counts == {"reply": {"handled": 1}}  # only the new one
    assert (after.already_handled, after.moved) == (2, 2)  # the unparsed one and the crashed one
    assert response_kinds(db_url) == Counter({"reply": 3})
    assert count(db_url, _IM) == 4
    assert in_both_folders(office) == (1, 3)
    with open_office(office) as box:
        box.select()
        (kept,) = box.uids_after(0)
        assert {"\\Flagged", "$AlumniUnparsed"} <= box.flags(kept)
    with engine_for(db_url).connect() as connection:
        cursor = connection.execute(sa.select(_C)).one()
    assert (cursor.uidvalidity, cursor.last_uid) == (after.uidvalidity, after.last_uid)


def test_a_message_the_recorder_fails_on_is_kept_flagged_and_the_others_go_on(
    sqlite_url: str, office: MailSystem
) -> None:
    ada = address("ada")
    add_alumnus(sqlite_url, "ADA", email=ada)
    office.send(
        letter(ada, "Take me off.", subject="unsubscribe d1-sometoken"), sender=ada, to=[OFFICE]
    )
    office.wait_for_mail(office.office, 1)  # first in the mailbox, first read
    office.send(letter(ada, "Is there parking?"), sender=ada, to=[OFFICE])
    office.wait_for_mail(office.office, 2)
    # Any failure of the recorder on one message will do; here its token check refuses a key
    # too short to verify the unsubscribe token (the settings never give one).
    context = replace(TrackingContext.from_settings(get_settings()), key=b"short")
    with open_office(office) as box:
        summary = read_mailbox(
            engine_for(sqlite_url), box, context=context, done_folder="Processed", worker="t"
        )
    assert summary.counts == {"unknown": {"unparsed": 1}, "reply": {"handled": 1}}
    (kept,) = summary.unparsed
    assert kept.detail is not None
    assert kept.detail.startswith("could not be handled (ValueError: the signing key has 5 bytes")
    assert response_kinds(sqlite_url) == Counter({"reply": 1})  # nothing half-recorded
    assert in_both_folders(office) == (1, 1)
    with open_office(office) as box:
        box.select()
        assert box.uids_after(0) == [kept.uid]
        assert {"\\Flagged", "$AlumniUnparsed"} <= box.flags(kept.uid)


def test_a_done_folder_the_server_refuses_stops_the_run_before_any_message_is_claimed(
    sqlite_url: str, office: MailSystem
) -> None:
    ada = address("ada")
    office.send(letter(ada, "Hello"), sender=ada, to=[OFFICE])
    office.wait_for_mail(office.office, 1)
    with (
        open_office(office) as box,
        pytest.raises(ImapConfigError, match="cannot create the folder 'Done/Items'"),
    ):
        read_mailbox(
            engine_for(sqlite_url),
            box,
            context=TrackingContext.from_settings(get_settings()),
            done_folder="Done/Items",
            worker="t",
        )
    assert count(sqlite_url, _IM) == 0 and count(sqlite_url, _C) == 0
    assert in_both_folders(office) == (1, 0)


# --- end to end: what an officer does ----------------------------------------------------------


@pytest.fixture
def officer_api(office: MailSystem, prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's Prefect server, where ``alumni`` commands run their flows."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    return prefect_api


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def track_in_a_process(api: str) -> subprocess.Popen[bytes]:
    """``alumni track`` in its own process, as an officer (or cron) starts it."""
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "alumni.cli.main", "track"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def handled_count(output: str) -> int:
    found = re.search(r": (\d+) new message\(s\) handled", output)
    assert found is not None, output
    return int(found.group(1))


def the_copy(mail: MailSystem, name: str) -> tuple[bytes, EmailMessage]:
    (raw,) = mail.wait_for_mail(mail.accounts[address(name)], 1)
    return raw, parsed(raw)


def calendar_answer(invite: EmailMessage, attendee: str, partstat: str) -> EmailMessage:
    """The REPLY a calendar client sends for ``invite``, built by vobject."""
    part = next(p for p in invite.walk() if p.get_content_type() == "text/calendar")
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    cal = vobject.iCalendar()
    cal.add("method").value = "REPLY"
    answer = cal.add("vevent")
    answer.add("uid").value = str(event["UID"])
    answer.add("sequence").value = str(event.get("SEQUENCE", 0))
    answer.add("dtstamp").value = utcnow().astimezone(dateutil_tz.UTC)
    answer.add("dtstart").value = event.decoded("DTSTART").astimezone(dateutil_tz.UTC)
    answer.add("organizer").value = str(event["ORGANIZER"])
    who = answer.add("attendee")
    who.value = f"mailto:{attendee}"
    who.params["PARTSTAT"] = [partstat]
    message = letter(
        attendee, "", subject=f"Accepted: {invite['Subject']}", answers=invite["Message-ID"]
    )
    message.set_content(cal.serialize(), subtype="calendar", params={"method": "REPLY"})
    return message


def mailto_unsubscribe(copy: EmailMessage, sender: str) -> EmailMessage:
    """What a mail client sends for the List-Unsubscribe mailto of ``copy``."""
    found = re.search(r"<mailto:([^>]+)>", str(copy["List-Unsubscribe"]))
    assert found is not None
    target = urlsplit(f"mailto:{found.group(1)}")
    subject = unquote(dict(p.split("=", 1) for p in target.query.split("&"))["subject"])
    message = letter(sender, "Please take me off the list.", subject=subject)
    del message["To"]
    message["To"] = target.path
    return message


def abuse_report(raw_copy: bytes, copy: EmailMessage, recipient: str) -> bytes:
    """An ARF report (RFC 5965) from a mailbox provider's feedback loop about ``copy``."""
    return_path = str(copy["Return-Path"]).strip("<>")
    original = raw_copy.replace(b"\r\n", b"\n").decode("utf-8", "replace")
    return (
        "From: Feedback Loop <fbl@isp.example.net>\n"
        f"To: {OFFICE}\n"
        f"Date: {formatdate()}\n"
        f"Subject: FW: {copy['Subject']}\n"
        f"Message-ID: {make_msgid(domain='isp.example.net')}\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="arf"\n'
        "\n--arf\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "This is an email abuse report for a message you sent.\n"
        "\n--arf\n"
        "Content-Type: message/feedback-report\n\n"
        "Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
        f"Original-Mail-From: <{return_path}>\nOriginal-Rcpt-To: <{recipient}>\n"
        f"Arrival-Date: {formatdate()}\n"
        "\n--arf\n"
        "Content-Type: message/rfc822\nContent-Disposition: inline\n\n"
        f"{original}"
        "\n--arf--\n"
    ).encode()


def class_of_2016(url: str) -> dict[str, int]:
    """The class: five real mailboxes (one answers automatically) and two dead addresses."""
    zone = daytime_zone()
    people = {
        name: add_alumnus(
            url, name.upper(), email=address(name), timezone=zone, first_name=name.title()
        )
        for name in ("ada", "ben", "cleo", "eli", "away", "ghost1", "ghost2")
    }
    add_alumnus(url, "DARA", class_year=2017, email=address("dara"), timezone=zone)
    return people


def test_an_officer_reads_everything_that_came_back_once(
    sqlite_url: str, office: MailSystem, officer_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = class_of_2016(sqlite_url)
    campaign = cli(
        "campaign",
        "create",
        "--name",
        "Ten years on",
        "--class-year",
        "2016",
        "--template",
        "reunion",
    ).split()[-1]
    cli("campaign", "run", campaign)
    starts = (utcnow() + timedelta(days=60)).strftime("%Y-%m-%d 18:00")
    event = cli(
        "event",
        "create",
        "--class-year",
        "2017",
        "--title",
        "Class of 2017 picnic",
        "--starts",
        starts,
        "--tz",
        "Europe/London",
    ).split()[-1]
    cli("event", "invite", event)

    # What reached the alumni, and the two real bounces and one auto-reply that came back.
    copies = {
        name: the_copy(office, name) for name in ("ada", "ben", "cleo", "eli", "away", "dara")
    }
    office.wait_for_mail(office.office, 2)  # ghost1 and ghost2: Postfix's delivery-status reports
    assert office.answer_auto_replies() == 1
    # The alumni answer, through Postfix.
    ada_copy = copies["ada"][1]
    quoted = "\n".join(
        f"> {line}" for line in ada_copy.get_body(("plain",)).get_content().splitlines()[:5]
    )
    office.send(
        letter(
            address("ada"),
            "Count me in! Can I bring my partner?\n\n"
            f"On {ada_copy['Date']}, Alumni Office <{OFFICE}> wrote:\n{quoted}\n",
            subject=f"Re: {ada_copy['Subject']}",
            answers=ada_copy["Message-ID"],
        ),
        sender=address("ada"),
        to=[OFFICE],
    )
    office.send(
        mailto_unsubscribe(copies["cleo"][1], address("cleo")), sender=address("cleo"), to=[OFFICE]
    )
    raw_ben, ben_copy = copies["ben"]
    office.send(
        abuse_report(raw_ben, ben_copy, address("ben")), sender="fbl@isp.example.net", to=[OFFICE]
    )
    office.send(
        calendar_answer(copies["dara"][1], address("dara"), "ACCEPTED"),
        sender=address("dara"),
        to=[OFFICE],
    )
    office.send(broken_calendar_answer(address("eli")), sender=address("eli"), to=[OFFICE])
    expected = 2 + 1 + 5  # bounces, the auto-reply, ada, cleo, the report, dara, the broken one
    office.wait_for_mail(office.office, expected)
    assert office.postfix.queue_empty()

    # Twice at once, in two processes.
    runs = [track_in_a_process(officer_api) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum(handled_count(output) for output in outputs) == expected

    assert response_kinds(sqlite_url) == Counter(
        {"bounce_hard": 2, "auto_reply": 1, "reply": 1, "unsubscribe": 1, "complaint": 1, "rsvp": 1}
    )
    with engine_for(sqlite_url).connect() as connection:
        rows = {r.sender: r for r in connection.execute(sa.select(_IM))}
        reply = connection.execute(sa.select(_R).where(_R.c.kind == "reply")).one()
        bounced = set(
            connection.execute(
                sa.select(_D.c.address)
                .join(_R, _R.c.delivery_id == _D.c.id)
                .where(_R.c.kind == "bounce_hard")
            ).scalars()
        )
        rsvp = connection.execute(sa.select(table_of(Rsvp))).one()
        statuses = dict(connection.execute(sa.select(_CP.c.value, _CP.c.status)).all())
    assert (
        len(rows) == expected - 1 and count(sqlite_url, _IM) == expected
    )  # two DSNs share a sender
    assert (rows[address("ada")].kind, rows[address("ada")].outcome) == ("reply", "handled")
    assert (rows[address("eli")].kind, rows[address("eli")].outcome) == ("calendar", "unparsed")
    assert (rows[address("away")].kind, rows[address("cleo")].kind) == ("auto_reply", "unsubscribe")
    assert (rows["fbl@isp.example.net"].kind, rows[address("dara")].kind) == (
        "complaint",
        "calendar",
    )
    assert (
        reply.text == "Count me in! Can I bring my partner?" and reply.alumnus_id == people["ada"]
    )
    assert bounced == {address("ghost1"), address("ghost2")}
    assert rsvp.answer == "yes"
    assert statuses[address("ghost1")] == statuses[address("ghost2")] == "invalid"
    # Nothing deleted, nothing doubled: all but the unparsed one moved; that one kept, flagged.
    assert in_both_folders(office) == (1, expected - 1)
    with open_office(office) as box:
        uidvalidity = box.select()
        (kept,) = box.uids_after(0)
        assert {"\\Flagged", "$AlumniUnparsed"} <= box.flags(kept)
        key = mailbox_key(box.address)
    unparsed_said = [o for o in outputs if "could not be read" in o]
    assert len(unparsed_said) == 1 and f"from {address('eli')}" in unparsed_said[0]
    with engine_for(sqlite_url).connect() as connection:
        cursor = connection.execute(sa.select(_C)).one()
        top = connection.execute(sa.select(sa.func.max(_IM.c.uid))).scalar_one()
    assert (cursor.mailbox, cursor.uidvalidity, cursor.last_uid) == (key, uidvalidity, top)

    # Then twice in a row: a late reply is handled by the first run, nothing by the second.
    eli_copy = copies["eli"][1]
    office.send(
        letter(address("eli"), "Sorry, abroad that week.", answers=eli_copy["Message-ID"]),
        sender=address("eli"),
        to=[OFFICE],
    )
    office.wait_for_mail(office.office, 2)
    assert handled_count(cli("track")) == 1
    assert handled_count(cli("track")) == 0
    assert response_kinds(sqlite_url)["reply"] == 2
    assert in_both_folders(office) == (1, expected)

    listed = json.loads(cli("replies", "--format", "json"))
    assert [r["text"] for r in listed] == [
        "Sorry, abroad that week.",
        "Count me in! Can I bring my partner?",
    ]

    # The campaign's status and its report in the Prefect UI count what came back, per alum.
    responses = json.loads(cli("campaign", "status", campaign, "--format", "json"))["responses"]
    came_back = {k: v for k, v in responses.items() if v}
    assert came_back == {
        "delivered": 5,
        "bounced_hard": 2,
        "auto_replied": 1,
        "replied": 2,
        "complained": 1,
        "unsubscribed": 1,
    }
    report = asyncio.run(latest_artifact(f"campaign-{campaign}-report"))
    assert "| replied | 2 |" in report and "| bounced hard | 2 |" in report

    # The next campaign to the class skips the dead addresses and the complaint.
    second = cli(
        "campaign",
        "create",
        "--name",
        "Save the date",
        "--class-year",
        "2016",
        "--template",
        "reunion",
    ).split()[-1]
    cli("campaign", "run", second)
    with engine_for(sqlite_url).connect() as connection:
        outcomes = dict(
            connection.execute(
                sa.select(
                    _D.c.alumnus_id, _D.c.status + ":" + sa.func.coalesce(_D.c.skip_reason, "")
                ).where(_D.c.campaign_id == int(second))
            ).all()
        )
    by_name = {name: outcomes[alumnus_id] for name, alumnus_id in people.items()}
    assert by_name == {
        "ada": "sent:",
        "eli": "sent:",
        "away": "sent:",
        "ben": "skipped:unsubscribed",
        "cleo": "skipped:unsubscribed",
        # a hard bounce leaves no working address (and the address stays suppressed)
        "ghost1": "skipped:no_email",
        "ghost2": "skipped:no_email",
    }


def test_a_wrong_password_stops_alumni_track_with_one_line_and_changes_nothing(
    sqlite_url: str, office: MailSystem, officer_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = address("ada")
    office.send(letter(ada, "Hello"), sender=ada, to=[OFFICE])
    office.wait_for_mail(office.office, 1)
    wrong = office.imap_url().replace(quote(office.office.password, safe=""), "not-it")
    monkeypatch.setenv("ALUMNI_IMAP_URL", wrong)
    get_settings.cache_clear()

    result = runner.invoke(app, ["track"])

    assert result.exit_code == 2
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error: IMAP imaps://") and "refused the login" in line
    assert "not-it" not in result.output and "Traceback" not in result.output
    assert count(sqlite_url, _IM) == 0 and count(sqlite_url, _C) == 0
    assert in_both_folders(office) == (1, 0)
    state = asyncio.run(last_inbound_state())  # as the Prefect UI shows the run
    assert state.is_failed() and state.name == "Misconfigured"
    assert state.message == line.removeprefix("error: ")


async def latest_artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async with get_client() as client:
        (artifact,) = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return str(artifact.data)


async def last_inbound_state() -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        (flow_run,) = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["inbound-mail"])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        return flow_run.state
