"""The escalation ladder: which rungs are due at a given ``now`` (pure), and planning them on
the ledger's office-notices channel once, whoever runs (SQLite and PostgreSQL).

Time is always given: the office is in London, open Monday to Friday 09:00-17:00; Monday
5 January 2026 is the first day of the week used.
"""

from __future__ import annotations

import email
import mailbox
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger
from alumni.models import OfficeNotice, Request, table_of
from alumni.requests import desk as desk_ops
from alumni.requests import office_notices
from alumni.requests.clock import BusinessCalendar
from alumni.requests.ladder import (
    EscalationSummary,
    OnTheClock,
    Rung,
    as_of_instant,
    due_rungs,
    escalate,
    open_requests,
    reminder_instant,
    running_deadlines,
)
from alumni.requests.officer_mail import NoticeEvent
from alumni.requests.types import load_request_types
from alumni.settings import Settings, get_settings
from connectors.smtp import SmtpConnectError
from tests.factories import add_alumnus
from tests.smtp_server import Recorder, Serve, free_port

if TYPE_CHECKING:
    from tests.social_servers import WebhookReceiver

LONDON = ZoneInfo("Europe/London")
CALENDAR = BusinessCalendar(tz=LONDON)
TYPES = load_request_types()
SETTINGS = Settings(desk_lead="lead@school.example", desk_director="director@school.example")
OWNER = "owner@school.example"
LEAD, DIRECTOR = "lead@school.example", "director@school.example"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """January 2026 in London (GMT: UTC+0), as UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@dataclass
class FakeRow:
    """The attributes of a Request row that the ladder reads (the pure functions take any)."""

    id: int
    type: str
    opened_at: datetime
    owner: str | None = OWNER
    status: str = "open"
    first_response_at: datetime | None = None
    last_update_at: datetime | None = None
    deadline: datetime | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0


def rungs_at(
    now: datetime, *items: OnTheClock
) -> list[tuple[int, str, str, tuple[str, ...], datetime]]:
    found = due_rungs(items, now=now, types=TYPES, calendar=CALENDAR, settings=SETTINGS)
    return [(r.request_id, r.deadline_kind, r.rung, r.recipients, r.due_at) for r in found]


def question(**values: Any) -> OnTheClock:
    pauses = values.pop("pauses", ())
    return OnTheClock(FakeRow(id=1, type="question", opened_at=at(5, 9), **values), pauses)


def test_the_owner_is_reminded_when_three_quarters_of_the_time_has_passed() -> None:
    # First response: 2 business days (16 office hours) from Monday 09:00, due Tuesday at
    # closing, 17:00; three quarters (12 office hours) have passed on Tuesday at 13:00.
    assert rungs_at(at(6, 12, 59), question()) == []
    assert rungs_at(at(6, 13), question()) == [
        (1, "first_response", "reminder", (OWNER,), at(6, 13))
    ]


def test_a_request_with_no_owner_reminds_the_desk_lead() -> None:
    assert rungs_at(at(6, 13), question(owner=None)) == [
        (1, "first_response", "reminder", (LEAD,), at(6, 13))
    ]


def test_the_lead_hears_at_the_breach_and_the_director_a_business_day_later() -> None:
    assert rungs_at(at(6, 16, 59), question())[-1][2] == "reminder"
    assert rungs_at(at(6, 17), question())[1:] == [
        (1, "first_response", "lead", (LEAD,), at(6, 17))
    ]
    # director_after = 1 business day: Wednesday 17:00.
    assert rungs_at(at(7, 16, 59), question())[-1][2] == "lead"
    assert rungs_at(at(7, 17), question())[-1] == (
        1,
        "first_response",
        "director",
        (DIRECTOR,),
        at(7, 17),
    )


def test_each_running_deadline_has_its_own_ladder() -> None:
    # Answered on Monday at 10:00: the first response is met; the next update (3 business
    # days from the last word) and the resolution (5 business days from opening) run.
    answered = question(first_response_at=at(5, 10), last_update_at=at(5, 10))
    deadlines = running_deadlines(answered, TYPES["question"], CALENDAR, now=at(5, 11))
    assert deadlines == {"next_update": at(8, 10), "resolution": at(9, 17)}
    # 75% of 3 business days (18 office hours) after Monday 10:00 is Wednesday 12:00; 75% of
    # 5 (30 office hours) after Monday 09:00 is Thursday 15:00 (due Friday at 17:00).
    assert rungs_at(at(8, 15), answered) == [
        (1, "next_update", "reminder", (OWNER,), at(7, 12)),
        (1, "next_update", "lead", (LEAD,), at(8, 10)),
        (1, "resolution", "reminder", (OWNER,), at(8, 15)),
    ]


def test_a_pause_moves_the_deadline_and_its_rungs() -> None:
    # Waiting on the alum from Monday 13:00 to Tuesday 13:00 stops 8 office hours: the first
    # response is due Wednesday 17:00, and three quarters have passed on Wednesday at 13:00.
    paused = question(pauses=((at(5, 13), at(6, 13)),))
    assert running_deadlines(paused, TYPES["question"], CALENDAR, now=at(7, 9)) == {
        "first_response": at(7, 17),
        "resolution": at(12, 17),
    }
    assert rungs_at(at(6, 17), paused) == []  # the old breach instant fires nothing
    assert rungs_at(at(7, 13), paused) == [(1, "first_response", "reminder", (OWNER,), at(7, 13))]
    (moved,) = due_rungs([paused], now=at(7, 13), types=TYPES, calendar=CALENDAR, settings=SETTINGS)
    (first,) = due_rungs(
        [question()], now=at(6, 13), types=TYPES, calendar=CALENDAR, settings=SETTINGS
    )
    assert moved.deadline != first.deadline  # a rung of another deadline instant: a new row


def test_no_rung_while_the_office_waits_on_the_alum() -> None:
    waiting = question(status="waiting", pauses=((at(5, 13), None),))
    assert rungs_at(at(20, 9), waiting) == []


def test_a_closed_request_has_no_rungs() -> None:
    closed = question(status="closed", closed_at=at(6, 9))
    assert rungs_at(at(20, 9), closed) == []


def test_welfare_escalates_every_hour_after_the_breach() -> None:
    # 24 hours on any day: opened Saturday 10:00, due Sunday 10:00; reminded at 18 hours
    # (Sunday 04:00); the director hears 2 hours after the breach; one rung each hour.
    welfare = OnTheClock(FakeRow(id=7, type="welfare", opened_at=at(10, 10)))
    assert rungs_at(at(11, 10, 59), welfare) == [
        (7, "first_response", "reminder", (OWNER,), at(11, 4)),
        (7, "first_response", "lead", (LEAD,), at(11, 10)),
    ]
    assert rungs_at(at(11, 11), welfare)[-1] == (
        7,
        "first_response",
        "repeat-1",
        (LEAD,),
        at(11, 11),
    )
    at_noon = rungs_at(at(11, 12), welfare)
    assert at_noon[2:] == [
        (7, "first_response", "director", (DIRECTOR,), at(11, 12)),
        (7, "first_response", "repeat-2", (LEAD,), at(11, 12)),
    ]
    # After the director rung, each hourly rung goes to the lead and the director.
    assert rungs_at(at(11, 13, 30), welfare)[-1] == (
        7,
        "first_response",
        "repeat-3",
        (LEAD, DIRECTOR),
        at(11, 13),
    )


def test_a_catch_up_fires_every_rung_due_in_order_and_only_the_latest_hourly_one() -> None:
    welfare = OnTheClock(FakeRow(id=7, type="welfare", opened_at=at(10, 10)))
    late = question()  # opened Monday 5 January 09:00
    found = due_rungs(
        [welfare, late], now=at(12, 12), types=TYPES, calendar=CALENDAR, settings=SETTINGS
    )
    assert [r.due_at for r in found] == sorted(r.due_at for r in found)
    # The question's resolution was due Friday 9 at closing; its director hears Monday 12 at
    # 17:00, not yet. Of the welfare request's hourly rungs since Sunday 11:00 only the latest
    # (Monday 12:00, the 26th) fires.
    assert [(r.request_id, r.deadline_kind, r.rung, r.due_at) for r in found] == [
        (1, "first_response", "reminder", at(6, 13)),
        (1, "first_response", "lead", at(6, 17)),
        (1, "first_response", "director", at(7, 17)),
        (1, "resolution", "reminder", at(8, 15)),
        (1, "resolution", "lead", at(9, 17)),
        (7, "first_response", "reminder", at(11, 4)),
        (7, "first_response", "lead", at(11, 10)),
        (7, "first_response", "director", at(11, 12)),
        (7, "first_response", "repeat-26", at(12, 12)),
    ]


def test_the_alums_own_deadline_brings_the_resolution_and_its_reminder_forward() -> None:
    # A letter is resolved in 10 business days, or by the alum's own deadline if sooner:
    # due Wednesday 09:00, two business days after opening; 75% passed on Tuesday at 13:00.
    letter = OnTheClock(
        FakeRow(id=3, type="letter", opened_at=at(5, 9), deadline=at(7, 9), owner=None)
    )
    deadlines = running_deadlines(letter, TYPES["letter"], CALENDAR, now=at(5, 10))
    assert deadlines["resolution"] == at(7, 9)
    found = {(r.deadline_kind, r.rung): r.due_at for r in _rungs(letter, now=at(7, 9))}
    assert found[("resolution", "reminder")] == at(6, 13)
    assert found[("resolution", "lead")] == at(7, 9)


def test_an_alums_deadline_before_the_request_came_has_no_reminder() -> None:
    letter = OnTheClock(FakeRow(id=3, type="letter", opened_at=at(7, 9), deadline=at(6, 9)))
    assert reminder_instant(letter, TYPES["letter"], "resolution", at(6, 9), CALENDAR, []) is None
    found = [(r.deadline_kind, r.rung) for r in _rungs(letter, now=at(7, 10))]
    assert ("resolution", "lead") in found and ("resolution", "reminder") not in found


def test_the_reminder_is_to_the_second_across_closed_hours() -> None:
    # 2 business days from Friday 16:59:30: 30 s on Friday, 8 h on Monday, 7 h 59 min 30 s on
    # Tuesday: due Tuesday 16:59:30. Twelve office hours: Tuesday 12:59:30.
    item = OnTheClock(
        FakeRow(id=1, type="question", opened_at=datetime(2026, 1, 9, 16, 59, 30, tzinfo=UTC))
    )
    due = running_deadlines(item, TYPES["question"], CALENDAR, now=at(9, 17))["first_response"]
    assert due == datetime(2026, 1, 13, 16, 59, 30, tzinfo=UTC)
    reminder = reminder_instant(item, TYPES["question"], "first_response", due, CALENDAR, [])
    assert reminder == datetime(2026, 1, 13, 12, 59, 30, tzinfo=UTC)


def test_a_type_missing_from_the_file_is_left_out() -> None:
    stray = OnTheClock(FakeRow(id=9, type="gone", opened_at=at(5, 9)))
    assert rungs_at(at(20, 9), stray, question()) == rungs_at(at(20, 9), question())


def test_as_of_is_now_or_a_past_instant() -> None:
    now = at(7, 9)
    assert as_of_instant(None, now=now) == now
    assert as_of_instant(at(6, 9), now=now) == at(6, 9)
    with pytest.raises(ValueError, match=r"is in the future.*nothing was done"):
        as_of_instant(now + timedelta(seconds=1), now=now)
    with pytest.raises(ValueError, match="give a time zone"):
        as_of_instant(datetime(2026, 1, 6, 9), now=now)


def _rungs(*items: OnTheClock, now: datetime) -> list[Rung]:
    return due_rungs(items, now=now, types=TYPES, calendar=CALENDAR, settings=SETTINGS)


# --- On the ledger (SQLite and PostgreSQL) ---------------------------------------------------

SECRET = "Ana sleeps in her car since the flood"  # a welfare summary: must never be sent
_N = table_of(OfficeNotice)
_Q = table_of(Request)


@pytest.fixture
def desk(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An office in London with a desk lead and a director; notices go to the Maildir outbox."""
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", "Europe/London")
    monkeypatch.setenv("ALUMNI_DESK_LEAD", LEAD)
    monkeypatch.setenv("ALUMNI_DESK_DIRECTOR", DIRECTOR)
    monkeypatch.delenv("ALUMNI_DESK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("ALUMNI_SMTP_URL", raising=False)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def open_one(url: str, type: str, summary: str, opened_at: datetime, owner: str | None) -> int:
    alumnus = add_alumnus(url, f"A-{type}-{opened_at:%d%H%M}")
    with write_transaction(engine_for(url)) as connection:
        return desk_ops.open_request(
            connection,
            type=type,
            alumnus_id=alumnus,
            summary=summary,
            source="officer",
            opened_at=opened_at,
            now=opened_at,
            actor="officer@school.example",
            owner=owner,
            types=TYPES,
        )


def notices(url: str) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(_N).order_by(_N.c.id)))


def outbox(url: str) -> list[EmailMessage]:
    folder = get_settings().outbox_dir / office_notices.OFFICE_FOLDER
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=policy.default)  # type: ignore[misc]
        for key in box.iterkeys()
    ]


def readable(message: EmailMessage) -> str:
    """Every header and the decoded text of a message: what a reader could see."""
    body = message.get_body(("plain",))
    assert body is not None
    return "\n".join([*(f"{k}: {v}" for k, v in message.items()), body.get_content()])


class Events:
    """Collects the events ``escalate`` hands to its emitter (the flow's is Prefect's)."""

    def __init__(self) -> None:
        self.sent: list[NoticeEvent] = []

    def __call__(self, event: NoticeEvent) -> bool:
        self.sent.append(event)
        return True


def test_each_rung_fires_once_however_often_the_ladder_runs(desk: str) -> None:
    question_id = open_one(desk, "question", "A transcript for a visa", at(5, 9), None)
    welfare_id = open_one(desk, "welfare", SECRET, at(10, 10), OWNER)
    engine = engine_for(desk)
    events = Events()
    settings = get_settings()
    first = escalate(
        engine, now=at(12, 12), settings=settings, emit=events, clock=lambda: at(12, 12)
    )
    assert [(r.request_id, r.rung) for r in first.fired] == [
        (question_id, "reminder"),
        (question_id, "lead"),
        (question_id, "director"),
        (question_id, "reminder"),
        (question_id, "lead"),
        (welfare_id, "reminder"),
        (welfare_id, "lead"),
        (welfare_id, "director"),
        (welfare_id, "repeat-26"),
    ]
    rows = notices(desk)
    # One email per recipient (repeat-26 goes to the lead and the director) and one event each.
    assert first.planned == len(rows) == 10 + 9
    assert first.sent == len(rows) and first.failed == first.retrying == 0
    assert {row.status for row in rows} == {"sent"}
    mails = outbox(desk)
    assert sorted(m["To"] for m in mails) == sorted(
        [LEAD] * 5 + [DIRECTOR] * 3 + [OWNER] + [LEAD]  # the question has no owner: the lead
    )
    assert {m["Message-ID"] for m in mails} == {r.message_id for r in rows if r.medium == "email"}
    assert len(events.sent) == 9 and len({e.id for e in events.sent}) == 9
    assert {e.name for e in events.sent} == {
        "alumni.request.sla-warning",
        "alumni.request.sla-breached",
    }
    with engine.connect() as connection:
        levels = dict(connection.execute(sa.select(_Q.c.id, _Q.c.escalation_level)).all())
    assert levels == {question_id: 3, welfare_id: 3 + 26}

    again = escalate(
        engine, now=at(12, 12), settings=settings, emit=events, clock=lambda: at(12, 12)
    )
    assert again.fired == [] and again.planned == again.sent == 0
    assert len(outbox(desk)) == len(mails) and len(events.sent) == 9

    # An hour on, the welfare request's next hourly rung, and nothing else.
    later = escalate(
        engine, now=at(12, 13), settings=settings, emit=events, clock=lambda: at(12, 13)
    )
    assert [(r.request_id, r.rung) for r in later.fired] == [(welfare_id, "repeat-27")]
    texts = [readable(m) for m in outbox(desk)]
    assert not [text for text in texts if SECRET in text]
    assert any("A transcript for a visa" in text for text in texts)  # not confidential
    assert all(SECRET not in repr(e) for e in events.sent)


def test_two_runs_at_once_plan_and_send_each_rung_once(desk: str) -> None:
    open_one(desk, "question", "A transcript for a visa", at(5, 9), OWNER)
    open_one(desk, "welfare", SECRET, at(10, 10), OWNER)
    engine = engine_for(desk)
    settings = get_settings()
    events = Events()
    start = threading.Barrier(2)
    summaries: list[EscalationSummary] = []

    def run() -> None:
        start.wait()
        summaries.append(
            escalate(
                engine, now=at(12, 12), settings=settings, emit=events, clock=lambda: at(12, 12)
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = notices(desk)
    assert sum(s.planned for s in summaries) == len(rows)
    assert sum(s.sent for s in summaries) == len(rows)
    assert sum(len(s.fired) for s in summaries) == 9
    assert len(outbox(desk)) == sum(row.medium == "email" for row in rows)
    assert len(events.sent) == 9


def test_a_rung_whose_deadline_moved_before_it_went_is_not_sent(desk: str) -> None:
    request_id = open_one(desk, "question", "A transcript for a visa", at(5, 9), OWNER)
    engine = engine_for(desk)
    settings = get_settings()
    with engine.connect() as connection:
        on_clock = open_requests(connection, now=at(6, 13))
    rungs = due_rungs(on_clock, now=at(6, 13), types=TYPES, calendar=CALENDAR, settings=settings)
    office_notices.plan_rungs(engine, rungs, settings=settings, now=at(6, 13))
    # Before the reminder goes out, the owner answers the alum: the first response is met.
    with write_transaction(engine) as connection:
        desk_ops.add_note(
            connection, request_id, text="Done tomorrow", to_alum=True, actor=OWNER, now=at(6, 14)
        )
    counts = office_notices.send_due(
        engine,
        settings=settings,
        types=TYPES,
        calendar=CALENDAR,
        emit=Events(),
        clock=lambda: at(6, 15),
    )
    assert counts == {"skipped": 2}
    assert {(row.status, row.error) for row in notices(desk)} == {
        ("skipped", "superseded: the deadline moved")
    }
    assert outbox(desk) == []


def test_a_run_without_prefect_leaves_the_events_for_one_with_it(desk: str) -> None:
    open_one(desk, "question", "A transcript for a visa", at(5, 9), OWNER)
    engine = engine_for(desk)
    settings = get_settings()
    alone = escalate(engine, now=at(6, 13), settings=settings, clock=lambda: at(6, 13))
    assert alone.sent == 1 and [r.medium for r in notices(desk) if r.status == "pending"] == [
        "event"
    ]
    events = Events()
    flow_run = escalate(
        engine, now=at(6, 13), settings=settings, emit=events, clock=lambda: at(6, 13)
    )
    assert flow_run.sent == 1 and len(events.sent) == 1
    assert events.sent[0].resource["prefect.resource.id"].startswith("alumni.request.")


def test_the_notices_channel_is_one_queue_without_campaigns(desk: str) -> None:
    engine = engine_for(desk)
    with pytest.raises(ValueError, match="notices channel takes no campaign id, not 3"):
        ledger.claim_rows(
            engine,
            ledger.NOTICES,
            3,
            worker="w",
            limit=1,
            now=at(5, 9),
            lease=timedelta(seconds=30),
            read=lambda c, ids: ids,
        )
    with pytest.raises(ValueError, match="deliveries channel takes a campaign id, not None"):
        ledger.renew(engine, ledger.DELIVERIES, None, worker="w", now=at(5, 9))


def test_a_chat_that_is_down_gets_the_message_later_and_the_emails_go_at_once(
    desk: str, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ALUMNI_DESK_WEBHOOK_URL", webhook_receiver.url("/broken"))  # 500
    get_settings.cache_clear()
    open_one(desk, "welfare", SECRET, at(10, 10), OWNER)
    engine = engine_for(desk)
    before = len(webhook_receiver.received)
    first = escalate(
        engine, now=at(11, 5), settings=get_settings(), emit=Events(), clock=lambda: at(11, 5)
    )
    assert (first.sent, first.retrying) == (2, 1)  # the owner's email and the event; the chat
    (chat,) = [row for row in notices(desk) if row.medium == "webhook"]
    assert chat.status == "pending" and "500" in chat.error
    assert chat.due_at == at(11, 5, 1)  # the shipped first back-off: a minute

    monkeypatch.setenv("ALUMNI_DESK_WEBHOOK_URL", webhook_receiver.url("/hook"))
    get_settings.cache_clear()
    settings = get_settings()
    early = escalate(
        engine,
        now=at(11, 5),
        settings=settings,
        emit=Events(),
        clock=lambda: at(11, 5) + timedelta(seconds=59),
    )
    assert early.sent == 0  # not due yet
    later = escalate(
        engine, now=at(11, 5), settings=settings, emit=Events(), clock=lambda: at(11, 5, 1)
    )
    assert later.sent == 1 and later.fired == []
    hooks = webhook_receiver.received[before:]
    assert [hook.path for hook in hooks] == ["/broken", "/hook"]
    assert all(SECRET not in hook.body.decode() for hook in hooks)
    assert len(outbox(desk)) == 1


def test_an_smtp_server_that_cannot_be_reached_sends_nothing_and_loses_nothing(
    desk: str, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{port}?tls=none")
    get_settings.cache_clear()
    open_one(desk, "question", "A transcript for a visa", at(5, 9), OWNER)
    engine = engine_for(desk)
    with pytest.raises(SmtpConnectError):
        escalate(engine, now=at(6, 13), settings=get_settings(), clock=lambda: at(6, 13))
    (mail,) = [row for row in notices(desk) if row.medium == "email"]
    assert (mail.status, mail.attempts) == ("pending", 0)  # given back, no attempt counted

    smtp = Recorder()
    serve(smtp, port=port)
    again = escalate(engine, now=at(6, 13), settings=get_settings(), clock=lambda: at(6, 13))
    assert again.fired == [] and again.sent == 1
    assert smtp.count(OWNER) == 1


def test_a_desk_lead_that_is_not_an_address_is_named() -> None:
    with pytest.raises(ValueError, match="ALUMNI_DESK_LEAD='the lead' is not an email address"):
        due_rungs(
            [question()],
            now=at(6, 13),
            types=TYPES,
            calendar=CALENDAR,
            settings=Settings(desk_lead="the lead"),
        )


def test_an_event_prefect_refuses_is_tried_again_and_sent_once(desk: str) -> None:
    open_one(desk, "question", "A transcript for a visa", at(5, 9), OWNER)
    engine = engine_for(desk)
    settings = get_settings()

    def refusing(event: NoticeEvent) -> bool:
        raise RuntimeError("events socket closed")

    first = escalate(
        engine, now=at(6, 13), settings=settings, emit=refusing, clock=lambda: at(6, 13)
    )
    assert (first.sent, first.retrying) == (1, 1)
    (event_row,) = [row for row in notices(desk) if row.medium == "event"]
    assert event_row.status == "pending" and "events socket closed" in event_row.error
    events = Events()
    escalate(engine, now=at(6, 13), settings=settings, emit=events, clock=lambda: at(6, 14))
    escalate(engine, now=at(6, 13), settings=settings, emit=events, clock=lambda: at(6, 15))
    assert len(events.sent) == 1 and len(outbox(desk)) == 1
