"""Big campaigns: preflight and send in worker processes, against a real SMTP server."""

from __future__ import annotations

import email
import shutil
from collections import Counter
from datetime import timedelta
from email import policy
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger, planning
from alumni.delivery.send_workers import SendPool, Spool
from alumni.delivery.sending import PreparedMail
from alumni.messages.mime import PreparedMessage
from alumni.messages.rendering import PreflightError
from alumni.models import Alumnus, Delivery, table_of, utcnow
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, daytime_zone
from tests.smtp_server import Recorder

ROOT = Path(__file__).resolve().parents[2]


def planned_campaign(url: str, size: int) -> int:
    for n in range(size):
        add_alumnus(
            url,
            f"W{n}",
            email=f"w{n}@example.org",
            timezone=daytime_zone(),
            locale=("en", "fr", "es")[n % 3],
            first_name=f"Ana{n}",
        )
    campaign = add_campaign(url)
    planning.plan(engine_for(url), campaign, now=utcnow(), options=planning.PlanOptions())
    return campaign


def test_workers_send_what_the_preflight_rendered_exactly_once(
    sqlite_url: str, smtp: Recorder
) -> None:
    campaign = planned_campaign(sqlite_url, 30)
    engine = engine_for(sqlite_url)
    with SendPool(2, connections=4) as pool:
        assert pool.preflight(campaign, ledger.iter_unsent(engine, campaign)) == 30
        # a change after the preflight: what was checked is what is sent
        with write_transaction(engine) as connection:
            table = table_of(Alumnus)
            connection.execute(
                sa.update(table).where(table.c.external_id == "W0").values(first_name="Changed")
            )
        rows = ledger.claim(
            engine, campaign, worker="w", limit=100, now=utcnow(), lease=timedelta(minutes=5)
        )
        counts = pool.send(campaign, rows, now=utcnow(), worker="w")
    # nothing rendered twice: every message came from the preflight's spool
    assert counts == {"sent": 30, "transient": 0, "permanent": 0, "rendered": 0}
    assert Counter(r for m in smtp.received for r in m.rcpt_tos) == Counter(
        f"w{n}@example.org" for n in range(30)
    )
    first = next(m for m in smtp.received if m.rcpt_tos == ("w0@example.org",))
    parsed = email.message_from_bytes(first.content, policy=policy.default)
    assert "Ana0" in parsed.get_body(("plain",)).get_content()
    assert list(ledger.iter_unsent(engine, campaign)) == []


def test_a_preflight_failure_in_a_worker_names_the_delivery(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    french = templates / "email" / "reunion" / "fr.html.j2"
    french.write_text(french.read_text() + "{{ cohort.mascot }}")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    campaign = planned_campaign(sqlite_url, 9)
    engine = engine_for(sqlite_url)
    with SendPool(2) as pool, pytest.raises(PreflightError) as failure:
        pool.preflight(campaign, ledger.iter_unsent(engine, campaign))
    assert failure.value.failed == 3 and "cohort.mascot" in str(failure.value)
    assert "delivery " in str(failure.value)
    assert smtp.received == []


def test_a_server_that_cannot_be_reached_stops_the_workers_and_every_row_goes_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alumni.delivery import batches
    from connectors.smtp import SmtpConnectError
    from tests.factories import deliveries
    from tests.smtp_server import free_port

    port = free_port()  # nothing listens there
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{port}?tls=none")
    monkeypatch.setenv("ALUMNI_SEND_BATCH_SIZE", "5")  # the next batch is claimed ahead too
    get_settings.cache_clear()
    campaign = planned_campaign(sqlite_url, 12)
    engine = engine_for(sqlite_url)
    with SendPool(2) as pool, pytest.raises(SmtpConnectError, match=f"127.0.0.1:{port}"):
        batches.send_batch(engine, campaign, worker="w", settings=get_settings(), pool=pool)
    rows = deliveries(sqlite_url, campaign)
    assert [(d.status, d.attempts, d.handed_at) for d in rows] == [("pending", 0, None)] * 12


def test_a_throttled_pool_asks_the_relay_for_every_row_a_slice_at_a_time(
    sqlite_url: str, smtp: Recorder
) -> None:
    from alumni.delivery.receipts import MAX_HANDED

    campaign = planned_campaign(sqlite_url, 230)
    engine = engine_for(sqlite_url)
    asked: list[int] = []
    with SendPool(2) as pool:
        rows = ledger.claim(
            engine, campaign, worker="w", limit=1000, now=utcnow(), lease=timedelta(minutes=5)
        )
        counts = pool.send(campaign, rows, now=utcnow(), worker="w", throttle=asked.append)
    assert counts["sent"] == 230 == sum(asked)
    assert max(asked) == 2 * MAX_HANDED and len(asked) == 3
    assert len(smtp.received) == 230


def test_a_row_whose_address_changed_after_the_preflight_is_made_again_for_the_new_one(
    sqlite_url: str, smtp: Recorder
) -> None:
    campaign = planned_campaign(sqlite_url, 6)
    engine = engine_for(sqlite_url)
    deliveries = table_of(Delivery)
    with SendPool(2, connections=2) as pool:
        assert pool.preflight(campaign, ledger.iter_unsent(engine, campaign)) == 6
        with write_transaction(engine) as connection:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.address == "w3@example.org")
                .values(address="new3@example.org")
            )
        rows = ledger.claim(
            engine, campaign, worker="w", limit=10, now=utcnow(), lease=timedelta(minutes=5)
        )
        counts = pool.send(campaign, rows, now=utcnow(), worker="w")
    assert counts == {"sent": 6, "transient": 0, "permanent": 0, "rendered": 1}
    moved = next(m for m in smtp.received if m.rcpt_tos == ("new3@example.org",))
    parsed = email.message_from_bytes(moved.content, policy=policy.default)
    assert parsed["To"].addresses[0].addr_spec == "new3@example.org"
    assert not any(m.rcpt_tos == ("w3@example.org",) for m in smtp.received)


def test_the_spool_gives_back_what_it_kept_the_latest_by_id(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")

    def mail(delivery_id: int, body: bytes) -> PreparedMail:
        return PreparedMail(
            delivery_id=delivery_id,
            envelope_from=f"bounces+{delivery_id}@alumni.example.edu",
            recipient=f"zoë{delivery_id}@example.org",
            message=PreparedMessage(b"From: a\r\nTo: b\r\n", b"Message-ID: <x@y>\r\n\r\n" + body),
        )

    spool.keep([mail(1, b"one"), mail(2, b"two" * 5000)])
    spool.keep([mail(1, b"one again"), mail(3, b"")])
    assert spool.get(1) == mail(1, b"one again")
    assert spool.get(2) == mail(2, b"two" * 5000)
    assert spool.get(3) == mail(3, b"")
    assert spool.get(4) is None


def test_each_batch_is_claimed_while_the_one_before_goes_out(
    sqlite_url: str, smtp: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alumni.delivery import batches
    from tests.factories import deliveries

    monkeypatch.setenv("ALUMNI_SEND_BATCH_SIZE", "10")
    get_settings.cache_clear()
    campaign = planned_campaign(sqlite_url, 25)
    engine = engine_for(sqlite_url)

    def statuses() -> Counter[str]:
        return Counter(d.status for d in deliveries(sqlite_url, campaign))

    with SendPool(2) as pool:
        send = partial(batches.send_batch, engine, campaign, worker="w", settings=get_settings())
        assert send(pool=pool)["sent"] == 10
        assert statuses() == {"sent": 10, "claimed": 10, "pending": 5}  # the next batch
        assert send(pool=pool) == {
            "claimed": 10,
            "sent": 10,
            "transient": 0,
            "permanent": 0,
            "rendered": 10,
        }
        assert statuses() == {"sent": 20, "claimed": 5}
        assert send(pool=pool)["sent"] == 5
        assert send(pool=pool) == {"claimed": 0}
    assert statuses() == {"sent": 25}
    assert Counter(r for m in smtp.received for r in m.rcpt_tos) == Counter(
        f"w{n}@example.org" for n in range(25)
    )


def test_rows_claimed_ahead_that_no_batch_took_go_back_when_the_run_ends(
    sqlite_url: str, smtp: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alumni.delivery import batches
    from tests.factories import deliveries

    monkeypatch.setenv("ALUMNI_SEND_BATCH_SIZE", "4")
    get_settings.cache_clear()
    campaign = planned_campaign(sqlite_url, 10)
    engine = engine_for(sqlite_url)
    with SendPool(2) as pool:
        batches.send_batch(engine, campaign, worker="w", settings=get_settings(), pool=pool)
    rows = deliveries(sqlite_url, campaign)
    assert Counter(d.status for d in rows) == {"sent": 4, "pending": 6}
    # given back as the lease would have: not counting an attempt, never handed over
    assert {(d.attempts, d.handed_at) for d in rows if d.status == "pending"} == {(0, None)}
