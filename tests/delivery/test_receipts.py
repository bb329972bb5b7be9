"""The sending side of the ledger: the receipt writer (order, bound, a writer that fails), rows
marked handed before they reach the server (the in-flight bound, checked by a real SMTP server
as each message arrives), and a transport that cannot connect at all."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, make_engine
from alumni.delivery import batches, ledger, planning, receipts
from alumni.delivery.receipts import ReceiptBuffer
from alumni.delivery.sending import CampaignKit, send_claimed
from alumni.models import Campaign, Delivery, table_of, utcnow
from alumni.settings import get_settings
from connectors.smtp import SmtpConnectError
from tests.factories import add_alumnus, add_campaign, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve, free_port

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
_C = table_of(Campaign)
_D = table_of(Delivery)


def claimed_rows(
    url: str, size: int, *, worker: str = "w", now: datetime = NOW
) -> tuple[int, list[ledger.Claimed]]:
    """A planned campaign of ``size`` alumni, every row claimed by ``worker`` at ``now``."""
    zone = "Europe/London" if now == NOW else daytime_zone()  # midday at ``now``
    for n in range(size):
        add_alumnus(url, f"B{n}", email=f"b{n}@example.org", timezone=zone)
    campaign = add_campaign(url)
    engine = engine_for(url)
    planning.plan(engine, campaign, now=now, options=planning.PlanOptions())
    rows = ledger.claim(engine, campaign, worker=worker, limit=size, now=now, lease=LEASE)
    return campaign, rows


def wait_for(condition: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


def test_answers_are_recorded_in_the_order_they_came(sqlite_url: str) -> None:
    campaign, rows = claimed_rows(sqlite_url, 40)
    ticks = itertools.count()
    buffer = ReceiptBuffer(
        engine_for(sqlite_url),
        worker="w",
        max_unwritten=4,
        clock=lambda: NOW + timedelta(seconds=next(ticks)),
    )
    for row in rows:
        buffer.add(ledger.Result(row.delivery_id, "sent"))
    buffer.flush()
    by_id = {d.id: d.sent_at for d in deliveries(sqlite_url, campaign)}
    stamps = [by_id[row.delivery_id] for row in rows]
    assert None not in stamps
    assert stamps == sorted(stamps)  # an earlier answer is never written after a later one
    assert len(set(stamps)) >= 40 // 4  # in groups of at most max_unwritten
    assert buffer.counts == {"sent": 40, "transient": 0, "permanent": 0}


def test_senders_wait_once_max_unwritten_answers_are_waiting(sqlite_url: str) -> None:
    campaign, rows = claimed_rows(sqlite_url, 30)
    writing = threading.Event()
    go_on = threading.Event()

    def slow_clock() -> datetime:  # the writer reads the clock right before it writes
        writing.set()
        go_on.wait()
        return NOW

    buffer = ReceiptBuffer(engine_for(sqlite_url), worker="w", max_unwritten=5, clock=slow_clock)
    added = [0]

    def sender() -> None:
        for row in rows:
            buffer.add(ledger.Result(row.delivery_id, "sent"))
            added[0] += 1

    thread = threading.Thread(target=sender)
    thread.start()
    wait_for(lambda: writing.is_set() and buffer.full, "the senders to fill the buffer")
    # one group being written and one waiting: the in-flight bound of the receipt writer
    assert added[0] == buffer.unwritten <= 2 * buffer.max_unwritten
    assert thread.is_alive() and added[0] < len(rows)
    go_on.set()
    thread.join()
    buffer.flush()
    assert buffer.unwritten == 0
    assert Counter(d.status for d in deliveries(sqlite_url, campaign)) == {"sent": 30}


def test_a_writer_that_fails_stops_the_senders(tmp_path: Path, sqlite_url: str) -> None:
    _, rows = claimed_rows(sqlite_url, 3)
    # a database without the ledger's tables: every write fails
    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    buffer = ReceiptBuffer(broken, worker="w")
    buffer.add(ledger.Result(rows[0].delivery_id, "sent"))
    with pytest.raises(sa.exc.OperationalError, match="no such table"):
        buffer.flush()
    with pytest.raises(sa.exc.OperationalError, match="no such table"):
        buffer.add(ledger.Result(rows[1].delivery_id, "sent"))
    with pytest.raises(sa.exc.OperationalError, match="no such table"):
        buffer.hand_over([rows[2].delivery_id])
    broken.dispose()


class Watching(Recorder):
    """A real SMTP server that reads the ledger as each message arrives."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = engine_for(url)
        self.unmarked: list[str] = []
        self.in_flight: list[int] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.engine.connect() as connection:
            handed = connection.execute(
                sa.select(_D.c.handed_at).where(_D.c.address == envelope.rcpt_tos[0])
            ).scalar()
            self.in_flight.append(
                connection.execute(
                    sa.select(sa.func.count()).where(
                        _D.c.status == "claimed", _D.c.handed_at.is_not(None)
                    )
                ).scalar_one()
            )
        if handed is None:
            self.unmarked.extend(envelope.rcpt_tos)
        return await super().handle_DATA(server, session, envelope)


def smtp_transport(port: int) -> Any:
    from connectors.smtp import SmtpTransport

    return SmtpTransport.from_url(f"smtp://127.0.0.1:{port}?tls=none", connections=4)


def test_every_message_is_marked_handed_before_the_server_has_it_and_few_are_in_flight(
    sqlite_url: str, serve: Serve
) -> None:
    campaign_id, rows = claimed_rows(sqlite_url, 260, now=utcnow())
    handler = Watching(sqlite_url)
    handler.delay = 0.002
    controller = serve(handler)
    engine = engine_for(sqlite_url)
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        kit = CampaignKit.build(connection, campaign, settings=get_settings(), now=utcnow())
    transport = smtp_transport(controller.port)
    try:
        counts = send_claimed(
            lambda chunk: kit.compose_many(chunk, now=utcnow()),
            rows,
            transport=transport,
            buffer=ReceiptBuffer(engine, worker="w"),
        )
    finally:
        transport.close()
    assert counts == {"sent": 260, "transient": 0, "permanent": 0}
    assert len(handler.received) == 260 and handler.unmarked == []
    # what a crash at any of those moments would have left handed over and not recorded
    assert max(handler.in_flight) <= receipts.IN_FLIGHT_BOUND


def test_rows_another_worker_took_over_are_not_sent(sqlite_url: str, serve: Serve) -> None:
    campaign_id, rows = claimed_rows(sqlite_url, 6, worker="slow", now=utcnow() - 2 * LEASE)
    engine = engine_for(sqlite_url)
    # the slow worker lost its lease (it renewed nothing); another run took two rows over
    taken = ledger.claim(engine, campaign_id, worker="other", limit=2, now=utcnow(), lease=LEASE)
    handler = Recorder()
    controller = serve(handler)
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        kit = CampaignKit.build(connection, campaign, settings=get_settings(), now=utcnow())
    transport = smtp_transport(controller.port)
    try:
        send_claimed(
            lambda chunk: kit.compose_many(chunk, now=utcnow()),
            rows,
            transport=transport,
            buffer=ReceiptBuffer(engine, worker="slow"),
        )
    finally:
        transport.close()
    sent = {r for m in handler.received for r in m.rcpt_tos}
    assert sent == {r.address for r in rows} - {r.address for r in taken}


def test_a_server_that_cannot_be_reached_stops_the_batch_and_gives_every_row_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{port}?tls=none")
    monkeypatch.setenv("ALUMNI_SEND_WORKERS", "0")
    get_settings.cache_clear()
    for n in range(5):
        add_alumnus(sqlite_url, f"N{n}", email=f"n{n}@example.org", timezone=daytime_zone())
    campaign = add_campaign(sqlite_url)
    engine = engine_for(sqlite_url)
    planning.plan(engine, campaign, now=utcnow(), options=planning.PlanOptions())
    with engine.connect() as connection:
        kit = CampaignKit.build(
            connection,
            ledger.load_campaign(connection, campaign),
            settings=get_settings(),
            now=utcnow(),
        )
    with pytest.raises(SmtpConnectError, match=f"SMTP server 127.0.0.1:{port}"):
        batches.send_batch(
            engine,
            campaign,
            worker="w",
            settings=get_settings(),
            compose=lambda now: lambda chunk: kit.compose_many(chunk, now=now),
        )
    rows = deliveries(sqlite_url, campaign)
    assert [(d.status, d.attempts, d.handed_at) for d in rows] == [("pending", 0, None)] * 5
    assert not any(d.maybe_duplicate for d in rows)
    with engine.connect() as connection:
        note = connection.execute(sa.select(_C.c.note).where(_C.c.id == campaign)).scalar_one()
    assert note.startswith("the last run stopped: ") and f"127.0.0.1:{port}" in note
