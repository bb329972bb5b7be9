"""The delivery ledger on SQLite and PostgreSQL: plan, claim, record."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger
from alumni.people.suppression import suppress, suppressed_scopes
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = ledger.PlanOptions(message_id_domain="school.example")


def outcomes(url: str, campaign_id: int) -> dict[str, str]:
    return {f"{d.alumnus_id}": d.skip_reason or d.status for d in deliveries(url, campaign_id)}


def test_every_alum_of_the_class_gets_one_outcome(db_url: str) -> None:
    ids = {
        "ok": add_alumnus(db_url, "A1", email="a1@example.com"),
        "dead": add_alumnus(db_url, "A2", email="a2@example.com", status="deceased"),
        "dnc": add_alumnus(db_url, "A3", email="a3@example.com", status="do_not_contact"),
        "noemail": add_alumnus(db_url, "A4"),
        "bouncing": add_alumnus(db_url, "A5", email="a5@example.com", email_status="bouncing"),
        "refused": add_alumnus(db_url, "A6", email="a6@example.com", consent={"news": False}),
        "unsub": add_alumnus(db_url, "A7", email="a7@example.com"),
        "busy": add_alumnus(db_url, "A8", email="a8@example.com"),
    }
    add_alumnus(db_url, "OTHER", class_year=2015, email="x@example.com")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        suppress(
            connection, kind="email", value="A7@example.com", reason="unsubscribed", scope="news"
        )
    earlier = add_campaign(db_url)
    for days in (1, 5, 10, 29):
        other = add_campaign(db_url)
        add_sent_delivery(db_url, other, ids["busy"], sent_at=NOW - timedelta(days=days))
    add_sent_delivery(db_url, earlier, ids["ok"], sent_at=NOW - timedelta(days=31))

    campaign = add_campaign(db_url)
    summary = ledger.plan(engine, campaign, now=NOW, options=OPTIONS)
    assert (summary.added, summary.pending, summary.skipped) == (8, 1, 7)
    got = outcomes(db_url, campaign)
    assert got == {
        str(ids["ok"]): "pending",
        str(ids["dead"]): "deceased",
        str(ids["dnc"]): "do_not_contact",
        str(ids["noemail"]): "no_email",
        str(ids["bouncing"]): "no_email",
        str(ids["refused"]): "no_consent",
        str(ids["unsub"]): "unsubscribed",
        str(ids["busy"]): "over_budget",
    }
    row = next(d for d in deliveries(db_url, campaign) if d.status == "pending")
    assert row.address == "a1@example.com" and row.message_id.endswith("@school.example>")
    # a rerun writes nothing new; an alum imported since is added
    assert ledger.plan(engine, campaign, now=NOW, options=OPTIONS).added == 0
    add_alumnus(db_url, "A9", email="a9@example.com")
    again = ledger.plan(engine, campaign, now=NOW, options=OPTIONS)
    assert (again.added, again.pending) == (1, 2)


def test_claims_never_overlap_and_crashed_claims_come_back(db_url: str) -> None:
    for n in range(60):
        add_alumnus(db_url, f"C{n}", email=f"c{n}@example.com")
    campaign = add_campaign(db_url)
    engine = engine_for(db_url)
    ledger.plan(engine, campaign, now=NOW, options=OPTIONS)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        mine = claimed.setdefault(name, [])
        while rows := ledger.claim(
            engine, campaign, worker=name, limit=7, now=NOW, lease=timedelta(minutes=5)
        ):
            mine.extend(r.delivery_id for r in rows)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == len(set(everything)) == 60
    # nothing is due again while the claims are fresh...
    assert (
        ledger.claim(
            engine, campaign, worker="late", limit=100, now=NOW, lease=timedelta(minutes=5)
        )
        == []
    )
    # ...but once the lease runs out they were in flight at a crash: claimed again, flagged
    later = NOW + timedelta(minutes=6)
    again = ledger.claim(
        engine, campaign, worker="late", limit=100, now=later, lease=timedelta(minutes=5)
    )
    assert len(again) == 60 and all(r.attempts == 2 for r in again)
    assert all(d.maybe_duplicate for d in deliveries(db_url, campaign))


def test_results_are_recorded(db_url: str) -> None:
    add_alumnus(db_url, "R1", email="r1@example.com")
    add_alumnus(db_url, "R2", email="r2@example.com")
    add_alumnus(db_url, "R3", email="gone@example.com")
    campaign = add_campaign(db_url)
    engine = engine_for(db_url)
    ledger.plan(engine, campaign, now=NOW, options=OPTIONS)
    rows = ledger.claim(engine, campaign, worker="w", limit=10, now=NOW, lease=timedelta(1))
    sent, later, gone = rows
    ledger.record(
        engine,
        [
            ledger.Result(sent.delivery_id, "sent"),
            ledger.Result(later.delivery_id, "transient", reply="451 4.3.0 try later"),
            ledger.Result(
                gone.delivery_id,
                "permanent",
                reply="550 5.1.1 no such user",
                address=gone.address,
                enhanced_status="5.1.1",
            ),
        ],
        now=NOW,
        worker="w",
        retry_delays=[timedelta(minutes=1)],
    )
    by_id = {d.id: d for d in deliveries(db_url, campaign)}
    assert by_id[sent.delivery_id].status == "sent"
    assert by_id[sent.delivery_id].sent_at == NOW
    assert by_id[later.delivery_id].status == "pending"
    assert by_id[later.delivery_id].due_at == NOW + timedelta(minutes=1)
    assert by_id[gone.delivery_id].status == "failed"
    assert "5.1.1" in by_id[gone.delivery_id].error
    with engine.connect() as connection:
        assert suppressed_scopes(connection, [("email", "gone@example.com")]) == {
            ("email", "gone@example.com"): {"all"}
        }
    # a later campaign skips the hard-bounced address as having no working email
    second = add_campaign(db_url)
    ledger.plan(engine, second, now=NOW, options=OPTIONS)
    assert sorted(d.skip_reason or d.status for d in deliveries(db_url, second)) == [
        "no_email",
        "pending",
        "pending",
    ]


def test_a_transient_failure_gives_up_after_the_last_attempt(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "T1", email="t1@example.com")
    campaign = add_campaign(sqlite_url)
    engine = engine_for(sqlite_url)
    ledger.plan(engine, campaign, now=NOW, options=OPTIONS)
    moment = NOW
    for _ in range(ledger.MAX_ATTEMPTS):
        (row,) = ledger.claim(
            engine, campaign, worker="w", limit=1, now=moment, lease=timedelta(hours=1)
        )
        ledger.record(
            engine,
            [ledger.Result(row.delivery_id, "transient", reply="451")],
            now=moment,
            worker="w",
            retry_delays=[timedelta(seconds=1)],
        )
        moment += timedelta(seconds=2)
    (final,) = deliveries(sqlite_url, campaign)
    assert final.status == "failed" and final.attempts == ledger.MAX_ATTEMPTS


def test_send_at_spreads_due_times_by_zone(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "Z1", email="z1@example.com", timezone="Asia/Kolkata")
    add_alumnus(sqlite_url, "Z2", email="z2@example.com", timezone="America/New_York")
    add_alumnus(sqlite_url, "Z3", email="z3@example.com", timezone=None)
    campaign = add_campaign(sqlite_url, send_at="09:30")
    options = ledger.PlanOptions(office_timezone="Europe/London")
    ledger.plan(engine_for(sqlite_url), campaign, now=NOW, options=options)
    due = [d.due_at for d in deliveries(sqlite_url, campaign)]
    assert due == [
        datetime(2027, 3, 2, 4, 0, tzinfo=UTC),  # 09:30 IST, tomorrow
        datetime(2027, 3, 1, 14, 30, tzinfo=UTC),  # 09:30 EST, today
        datetime(2027, 3, 2, 9, 30, tzinfo=UTC),
    ]  # the office's zone


def test_a_stopped_campaign_is_not_planned(sqlite_url: str) -> None:
    campaign = add_campaign(sqlite_url, status="stopped", note="preflight failed")
    with pytest.raises(RuntimeError, match="stopped"):
        ledger.plan(engine_for(sqlite_url), campaign, now=NOW, options=OPTIONS)
