"""The office's own notices on the ledger (``ledger.NOTICES``): planned once, sent once.

Planning inserts one ``OfficeNotice`` row per thing to send, with INSERT ... ON CONFLICT DO
NOTHING on what makes it unique, so reruns, two runs at once and a catch-up plan each once:

- a rung of the escalation ladder: one row per officer emailed, one for the desk's chat
  webhook (``ALUMNI_DESK_WEBHOOK_URL``, when set), one for its Prefect event
  (``alumni.request.sla-breached``; ``alumni.request.sla-warning`` for a reminder);
- an owner's daily digest: one row per owner and office day (``alumni.requests.owner_digest``).

``send_due`` claims due rows under the ledger's lease, like every channel: emails go through
the mail transport (SMTP, or the outbox's Maildir folder ``.office``), chat messages through
``connectors.webhook`` (which refuses private addresses unless ``ALUMNI_WEBHOOK_ALLOW_PRIVATE``),
events through the ``emit`` callback the flow gives (the domain never imports Prefect). Every
row's text is made when it is sent (``alumni.requests.officer_mail``). A rung whose deadline has
moved since it was planned, or whose request was closed, is not sent: it is marked skipped,
"superseded".
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import insert_unless_present, write_transaction
from alumni.delivery import ledger
from alumni.delivery.batches import lease_of
from alumni.messages.mime import make_message_id
from alumni.models import (
    DeliveryStatus,
    NoticeMedium,
    OfficeNotice,
    Request,
    RequestPause,
    RequestStatus,
    table_of,
    utcnow,
)
from alumni.requests import officer_mail
from alumni.requests.clock import BusinessCalendar, Pause
from alumni.requests.ladder import OnTheClock, Rung, running_deadlines
from alumni.requests.types import RequestType
from alumni.settings import Settings
from connectors.mail import MailTransport, OutgoingMail, Receipt, open_mail_transport
from connectors.smtp import SmtpConnectError
from connectors.social import SocialPost
from connectors.webhook import WebhookClient

_N = table_of(OfficeNotice)
_Q = table_of(Request)
_P = table_of(RequestPause)
UNIQUE = ["topic", "deadline_kind", "deadline_at", "rung", "recipient"]
WEBHOOK = "desk-webhook"  # the recipient of a chat row
BATCH = 50  # rows claimed at a time
DIGEST = "digest"
OFFICE_FOLDER = ".office"  # the Maildir++ folder of the outbox that notices go to without SMTP

# Sends one event and says whether it went: the flow's wrapper of prefect's emit_event.
Emit = Callable[[officer_mail.NoticeEvent], bool]


def topic_of(request_id: int) -> str:
    """The topic of a request's rungs: ``request-<id>``."""
    return f"request-{request_id}"


def notice_key(
    topic: str, deadline_kind: str, deadline_at: datetime, rung: str, recipient: str
) -> str:
    """What makes a notice unique, as one string."""
    return f"{topic}/{deadline_kind}/{deadline_at.isoformat()}/{rung}/{recipient}"


def row_identity(key: str, planned_at: datetime) -> str:
    """What names one notice row for good: its key and when it was planned (another database
    sharing the Prefect server, or one restored, has the same keys but not the same instants),
    so its Message-ID and its event id are its own and fixed."""
    return f"notice:{key}:{planned_at.isoformat()}"


def event_id(identity: str) -> uuid.UUID:
    """The Prefect event id of a notice row: the same on every emit (the server keeps one)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"alumni-outreach:{identity}")


def new_row(
    *,
    topic: str,
    request_id: int | None,
    deadline_kind: str,
    deadline_at: datetime,
    rung: str,
    level: int,
    medium: NoticeMedium,
    recipient: str,
    due_at: datetime,
    domain: str,
    now: datetime,
) -> dict[str, Any]:
    """The values of a new pending notice row (an email one gets its fixed Message-ID)."""
    key = notice_key(topic, deadline_kind, deadline_at, rung, recipient)
    return {
        "topic": topic,
        "request_id": request_id,
        "deadline_kind": deadline_kind,
        "deadline_at": deadline_at,
        "rung": rung,
        "level": level,
        "medium": medium,
        "recipient": recipient,
        "message_id": (
            make_message_id(row_identity(key, now), domain)
            if medium == NoticeMedium.email
            else None
        ),
        "status": DeliveryStatus.pending,
        "due_at": due_at,
        "attempts": 0,
        "maybe_duplicate": False,
        "created_at": now,
    }


def plan_rows(connection: Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Insert each row unless its notice is planned already; return how many were new."""
    return sum(insert_unless_present(connection, _N, UNIQUE, **row) for row in rows)


def plan_rungs(
    engine: Engine, rungs: Sequence[Rung], *, settings: Settings, now: datetime | None = None
) -> tuple[list[Rung], int]:
    """Plan the rows of each rung (once, whoever runs) and raise each request's
    ``escalation_level`` to its highest rung planned; return the rungs this call planned and
    how many rows it inserted.

    Raises:
        ValueError: ALUMNI_FROM has no address.
    """
    _, domain = settings.sender_address()
    now = now or utcnow()
    webhook = settings.desk_webhook_url is not None
    fired: list[Rung] = []
    inserted = 0
    with write_transaction(engine) as connection:
        for rung in rungs:
            media = [(NoticeMedium.email, to) for to in rung.recipients]
            if webhook:
                media.append((NoticeMedium.webhook, WEBHOOK))
            event = officer_mail.WARNING_EVENT if not rung.breached else officer_mail.BREACHED_EVENT
            media.append((NoticeMedium.event, event))
            new = plan_rows(
                connection,
                (
                    new_row(
                        topic=topic_of(rung.request_id),
                        request_id=rung.request_id,
                        deadline_kind=rung.deadline_kind,
                        deadline_at=rung.deadline,
                        rung=rung.rung,
                        level=rung.level,
                        medium=medium,
                        recipient=recipient,
                        due_at=rung.due_at,
                        domain=domain,
                        now=now,
                    )
                    for medium, recipient in media
                ),
            )
            if new:
                fired.append(rung)
                inserted += new
                connection.execute(
                    sa.update(_Q)
                    .where(_Q.c.id == rung.request_id, _Q.c.escalation_level < rung.level)
                    .values(escalation_level=rung.level)
                )
    return fired, inserted


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A claimed notice row with its request (None for a digest)."""

    id: int
    topic: str
    deadline_kind: str
    deadline_at: datetime
    rung: str
    level: int
    medium: str
    recipient: str
    message_id: str | None
    request: Any | None
    pauses: tuple[Pause, ...]
    created_at: datetime

    @property
    def identity(self) -> str:
        """``row_identity`` of this row."""
        key = notice_key(
            self.topic, self.deadline_kind, self.deadline_at, self.rung, self.recipient
        )
        return row_identity(key, self.created_at)


def _read(connection: Connection, ids: list[int]) -> list[ClaimedNotice]:
    rows = connection.execute(sa.select(_N).where(_N.c.id.in_(ids)).order_by(_N.c.id)).all()
    request_ids = sorted({r.request_id for r in rows if r.request_id is not None})
    requests = {r.id: r for r in connection.execute(sa.select(_Q).where(_Q.c.id.in_(request_ids)))}
    pauses: dict[int, list[Pause]] = {}
    for p in connection.execute(
        sa.select(_P.c.request_id, _P.c.started_at, _P.c.ended_at)
        .where(_P.c.request_id.in_(request_ids))
        .order_by(_P.c.started_at)
    ):
        pauses.setdefault(p.request_id, []).append((p.started_at, p.ended_at))
    return [
        ClaimedNotice(
            id=r.id,
            topic=r.topic,
            deadline_kind=r.deadline_kind,
            deadline_at=r.deadline_at,
            rung=r.rung,
            level=r.level,
            medium=r.medium,
            recipient=r.recipient,
            message_id=r.message_id,
            request=requests.get(r.request_id) if r.request_id is not None else None,
            pauses=tuple(pauses.get(r.request_id, ())) if r.request_id is not None else (),
            created_at=r.created_at,
        )
        for r in rows
    ]


def superseded(
    notice: ClaimedNotice,
    *,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    now: datetime,
) -> str | None:
    """Why a rung's notice must not go out at ``now`` (pure), or None if it still stands: its
    request was closed or removed, or the deadline it belongs to is no longer the one running
    (it moved: a pause, a word to the alum)."""
    if notice.topic == DIGEST:
        return None
    request = notice.request
    if request is None:
        return "superseded: the request no longer exists"
    if request.status == RequestStatus.closed:
        return "superseded: the request was closed"
    rtype = types.get(request.type)
    if rtype is None:
        return f"superseded: the type {request.type!r} is not in the request types file"
    running = running_deadlines(OnTheClock(request, notice.pauses), rtype, calendar, now=now)
    if running.get(notice.deadline_kind) != notice.deadline_at:
        return "superseded: the deadline moved"
    return None


Compose = Callable[[ClaimedNotice, datetime], tuple[str, str]]


def send_due(
    engine: Engine,
    *,
    settings: Settings,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    emit: Emit | None = None,
    compose_digest: Compose | None = None,
    worker: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Counter[str]:
    """Send every notice row due now, a batch at a time under the ledger's lease; return the
    counts of outcomes (``sent``, ``transient``, ``permanent``, ``skipped``).

    Args:
        emit: sends a Prefect event (the flow's); None: event rows stay for a run that has one.
        compose_digest: (row, now) -> (subject, body) of a digest row; None: digest rows stay
            for a run that has it (``alumni.requests.owner_digest``).
        worker: the name rows are claimed under; default a random one.

    Raises:
        SmtpConnectError: no connection to the SMTP server could be opened: the batch's
            unsent emails go back pending (no attempt counted), the rest is recorded.
    """
    worker = worker or f"notices-{uuid.uuid4().hex[:12]}"
    lease = lease_of(settings)
    delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
    only: list[Any] = []
    if emit is None:
        only.append(_N.c.medium != NoticeMedium.event)
    if compose_digest is None:
        only.append(_N.c.topic != DIGEST)
    counts: Counter[str] = Counter()
    transport: MailTransport | None = None
    webhook = _desk_webhook(settings)
    try:
        while True:
            now = clock()
            claimed = ledger.claim_rows(
                engine,
                ledger.NOTICES,
                None,
                worker=worker,
                limit=BATCH,
                now=now,
                lease=lease,
                read=_read,
                where=only,
            )
            if not claimed:
                return counts
            with ledger.Heartbeat(engine, ledger.NOTICES, None, worker=worker, lease=lease):
                if transport is None and any(n.medium == NoticeMedium.email for n in claimed):
                    transport = office_transport(settings)
                results = _send_batch(
                    engine,
                    claimed,
                    now=now,
                    worker=worker,
                    settings=settings,
                    types=types,
                    calendar=calendar,
                    emit=emit,
                    compose_digest=compose_digest,
                    transport=transport,
                    webhook=webhook,
                )
                ledger.record(
                    engine,
                    ledger.NOTICES,
                    results,
                    now=clock(),
                    worker=worker,
                    retry_delays=delays,
                )
            counts.update(r.outcome for r in results)
    finally:
        if transport is not None:
            transport.close()
        if webhook is not None:
            webhook.close()


def office_transport(settings: Settings) -> MailTransport:
    """The SMTP server of ALUMNI_SMTP_URL, as for campaigns; when it is unset, the Maildir
    folder ``.office`` of the outbox (a folder of its own: Maildir file names are row ids, and
    notices are rows of another table than deliveries)."""
    url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    return open_mail_transport(
        url, outbox_dir=settings.outbox_dir / OFFICE_FOLDER, connections=settings.smtp_connections
    )


def _desk_webhook(settings: Settings) -> WebhookClient | None:
    if settings.desk_webhook_url is None:
        return None
    return WebhookClient(
        settings.desk_webhook_url.get_secret_value(),
        style=settings.desk_webhook_style,
        allow_private=settings.webhook_allow_private,
    )


def _send_batch(
    engine: Engine,
    claimed: Sequence[ClaimedNotice],
    *,
    now: datetime,
    worker: str,
    settings: Settings,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
    emit: Emit | None,
    compose_digest: Compose | None,
    transport: MailTransport | None,
    webhook: WebhookClient | None,
) -> list[ledger.Result]:
    """Send one claimed batch; every row gets a result (emails released if SMTP is away)."""
    results: list[ledger.Result] = []
    live: list[ClaimedNotice] = []
    for notice in claimed:
        why = superseded(notice, types=types, calendar=calendar, now=now)
        if why is None:
            live.append(notice)
        else:
            results.append(ledger.Result(notice.id, "skipped", reply=why))
    held = ledger.mark_handed(engine, ledger.NOTICES, [n.id for n in live], worker=worker, now=now)
    live = [n for n in live if n.id in held]
    zone = calendar.tz
    mails: list[OutgoingMail] = []
    for notice in live:
        if notice.medium == NoticeMedium.email:
            try:
                mails.append(_mail(notice, settings, types, compose_digest, now=now, zone=zone))
            except ValueError as exc:
                results.append(ledger.Result(notice.id, "permanent", reply=str(exc)))
        elif notice.medium == NoticeMedium.webhook:
            results.append(_chat(notice, webhook, types, now=now))
        elif emit is not None:
            facts = _facts(notice, types)
            event = officer_mail.rung_event(facts, now=now, event_id=event_id(notice.identity))
            results.append(_emitted(notice.id, event, emit))
    if mails:
        assert transport is not None
        answered: list[ledger.Result] = []

        def on_receipt(receipt: Receipt) -> None:  # from the transport's threads
            answered.append(ledger.Result(receipt.key, receipt.outcome.value, reply=receipt.reply))

        try:
            transport.send(mails, on_receipt)
        except SmtpConnectError:
            done = {r.row_id for r in answered}
            ledger.record(engine, ledger.NOTICES, [*results, *answered], now=now, worker=worker)
            ledger.release(
                engine, ledger.NOTICES, [m.key for m in mails if m.key not in done], worker=worker
            )
            raise
        results.extend(answered)
    return results


def _emitted(row_id: int, event: officer_mail.NoticeEvent, emit: Emit) -> ledger.Result:
    try:
        went = emit(event)
    except Exception as exc:  # whatever Prefect raised, the row is tried again, not lost
        return ledger.Result(row_id, "transient", reply=f"Prefect refused the event: {exc}")
    if went:
        return ledger.Result(row_id, "sent")
    return ledger.Result(row_id, "transient", reply="Prefect took no event (events are off)")


def _facts(notice: ClaimedNotice, types: Mapping[str, RequestType]) -> officer_mail.RungFacts:
    assert notice.request is not None  # a rung's request: checked by ``superseded``
    return officer_mail.facts_of(
        notice.request,
        types.get(notice.request.type),
        deadline_kind=notice.deadline_kind,
        deadline=notice.deadline_at,
        rung=notice.rung,
        level=notice.level,
    )


def _mail(
    notice: ClaimedNotice,
    settings: Settings,
    types: Mapping[str, RequestType],
    compose_digest: Compose | None,
    *,
    now: datetime,
    zone: Any,
) -> OutgoingMail:
    if notice.topic == DIGEST:
        assert compose_digest is not None  # digest rows are only claimed with it
        subject, body = compose_digest(notice, now)
    else:
        facts = _facts(notice, types)
        subject = officer_mail.rung_subject(facts, now=now)
        body = officer_mail.rung_body(facts, now=now, zone=zone)
    local, domain = settings.return_path()
    assert notice.message_id is not None  # every email row has one
    data = officer_mail.officer_email(
        sender=settings.sender,
        to=notice.recipient,
        subject=subject,
        body=body,
        message_id=notice.message_id,
        date=now,
    )
    return OutgoingMail(
        key=notice.id, envelope_from=f"{local}@{domain}", recipient=notice.recipient, data=data
    )


def _chat(
    notice: ClaimedNotice,
    webhook: WebhookClient | None,
    types: Mapping[str, RequestType],
    *,
    now: datetime,
) -> ledger.Result:
    if webhook is None:
        return ledger.Result(
            notice.id, "permanent", reply="ALUMNI_DESK_WEBHOOK_URL is no longer set"
        )
    title, text = officer_mail.rung_chat(_facts(notice, types), now=now)
    receipt = webhook.post(SocialPost(f"notice-{notice.id}", text, title=title))
    return ledger.Result(
        notice.id, receipt.outcome.value, reply=receipt.reply, retry_after=receipt.retry_after
    )
