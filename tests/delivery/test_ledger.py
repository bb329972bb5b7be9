"""The ledger on SQLite and PostgreSQL: claim, lease and takeover, record, release, and the one
rule for what a run does next and when a campaign is done."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger, planning
from alumni.models import Campaign, SocialPost, table_of
from alumni.people.suppression import suppressed_scopes
from tests.factories import add_alumnus, add_campaign, deliveries, planned_class

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
LEASE = timedelta(seconds=30)  # the shipped ALUMNI_CLAIM_LEASE_SECONDS
_C = table_of(Campaign)


def planned(url: str, size: int) -> int:
    return planned_class(url, size, now=NOW)


def test_the_lease_rule_with_a_given_now() -> None:
    renewed = NOW
    assert not ledger.lease_lapsed(renewed, now=NOW + LEASE, lease=LEASE)
    assert ledger.lease_lapsed(renewed, now=NOW + LEASE + timedelta(microseconds=1), lease=LEASE)
    # a live worker renews every third of the lease: two late beats still keep its rows
    assert ledger.renew_every(LEASE) == timedelta(seconds=10)
    late = renewed + 2 * ledger.renew_every(LEASE) + timedelta(seconds=5)
    assert not ledger.lease_lapsed(renewed, now=late, lease=LEASE)


def test_claims_never_overlap_and_a_dead_workers_rows_are_taken_over(db_url: str) -> None:
    campaign = planned(db_url, 60)
    engine = engine_for(db_url)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        mine = claimed.setdefault(name, [])
        while rows := ledger.claim(engine, campaign, worker=name, limit=7, now=NOW, lease=LEASE):
            mine.extend(r.delivery_id for r in rows)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == len(set(everything)) == 60
    # nothing is due again within the lease...
    assert (
        ledger.claim(engine, campaign, worker="late", limit=100, now=NOW + LEASE, lease=LEASE) == []
    )
    # ...but once it lapses (the workers died) the rows are taken over; none had been handed
    # to a transport, so none may have gone out: none is flagged
    later = NOW + LEASE + timedelta(seconds=1)
    again = ledger.claim(engine, campaign, worker="late", limit=100, now=later, lease=LEASE)
    assert len(again) == 60 and all(r.attempts == 2 for r in again)
    assert not any(d.maybe_duplicate for d in deliveries(db_url, campaign))


def test_only_rows_handed_over_and_not_recorded_are_flagged_after_a_takeover(
    db_url: str,
) -> None:
    campaign = planned(db_url, 10)
    engine = engine_for(db_url)
    rows = ledger.claim(engine, campaign, worker="dead", limit=10, now=NOW, lease=LEASE)
    ids = [r.delivery_id for r in rows]
    # the dead worker handed six over; the server answered two, which it recorded
    assert ledger.mark_handed(engine, ledger.DELIVERIES, ids[:6], worker="dead", now=NOW) == set(
        ids[:6]
    )
    ledger.record(
        engine,
        ledger.DELIVERIES,
        [ledger.Result(i, "sent") for i in ids[:2]],
        now=NOW,
        worker="dead",
    )
    later = NOW + LEASE + timedelta(seconds=1)
    taken = ledger.claim(engine, campaign, worker="next", limit=10, now=later, lease=LEASE)
    assert sorted(r.delivery_id for r in taken) == ids[2:]
    flagged = {d.id for d in deliveries(db_url, campaign) if d.maybe_duplicate}
    assert flagged == set(ids[2:6])
    # the new holder's rows are not handed yet, and the dead worker can no longer hand any over
    assert ledger.mark_handed(engine, ledger.DELIVERIES, ids[6:], worker="dead", now=later) == set()
    # a second takeover of rows the next worker never handed over flags nothing more
    final = later + LEASE + timedelta(seconds=1)
    ledger.claim(engine, campaign, worker="third", limit=10, now=final, lease=LEASE)
    assert {d.id for d in deliveries(db_url, campaign) if d.maybe_duplicate} == flagged


def test_a_renewed_lease_keeps_a_slow_batch_from_being_taken_over(db_url: str) -> None:
    campaign = planned(db_url, 5)
    engine = engine_for(db_url)
    rows = ledger.claim(engine, campaign, worker="slow", limit=5, now=NOW, lease=LEASE)
    beat = NOW
    for _ in range(9):  # a minute and a half of sending, renewed every third of the lease
        beat += ledger.renew_every(LEASE)
        assert ledger.renew(engine, ledger.DELIVERIES, campaign, worker="slow", now=beat) == 5
        # another run looking just before the next beat finds nothing to take
        look = beat + ledger.renew_every(LEASE)
        assert ledger.claim(engine, campaign, worker="other", limit=5, now=look, lease=LEASE) == []
    # the batch is long past its first lease and still its own
    assert beat - NOW > 2 * LEASE
    assert ledger.mark_handed(
        engine, ledger.DELIVERIES, [r.delivery_id for r in rows], worker="slow", now=beat
    ) == {r.delivery_id for r in rows}


def test_the_heartbeat_thread_renews_while_it_runs(sqlite_url: str) -> None:
    campaign = planned(sqlite_url, 3)
    engine = engine_for(sqlite_url)
    ledger.claim(engine, campaign, worker="live", limit=3, now=NOW, lease=LEASE)
    beats = iter(NOW + n * ledger.renew_every(LEASE) for n in range(1, 1000))
    # a lease of 0.3 s beats every 0.1 s; the clock the beats write is the test's own
    with ledger.Heartbeat(
        engine,
        ledger.DELIVERIES,
        campaign,
        worker="live",
        lease=timedelta(seconds=0.3),
        clock=lambda: next(beats),
    ) as heartbeat:
        deadline = time.monotonic() + 30
        while heartbeat.beats < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert heartbeat.beats >= 3
    renewed = {d.claimed_at for d in deliveries(sqlite_url, campaign)}
    (at,) = renewed
    assert at >= NOW + 3 * ledger.renew_every(LEASE)


def test_results_are_recorded(db_url: str) -> None:
    add_alumnus(db_url, "R1", email="r1@example.com")
    add_alumnus(db_url, "R2", email="r2@example.com")
    add_alumnus(db_url, "R3", email="gone@example.com")
    campaign = add_campaign(db_url)
    engine = engine_for(db_url)
    planning.plan(engine, campaign, now=NOW, options=OPTIONS)
    rows = ledger.claim(engine, campaign, worker="w", limit=10, now=NOW, lease=LEASE)
    sent, later, gone = rows
    ledger.record(
        engine,
        ledger.DELIVERIES,
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
    planning.plan(engine, second, now=NOW, options=OPTIONS)
    assert sorted(d.skip_reason or d.status for d in deliveries(db_url, second)) == [
        "no_email",
        "pending",
        "pending",
    ]


def test_a_transient_failure_gives_up_after_the_last_attempt(sqlite_url: str) -> None:
    campaign = planned(sqlite_url, 1)
    engine = engine_for(sqlite_url)
    moment = NOW
    for _ in range(ledger.MAX_ATTEMPTS):
        (row,) = ledger.claim(engine, campaign, worker="w", limit=1, now=moment, lease=LEASE)
        ledger.record(
            engine,
            ledger.DELIVERIES,
            [ledger.Result(row.delivery_id, "transient", reply="451")],
            now=moment,
            worker="w",
            retry_delays=[timedelta(seconds=1)],
        )
        moment += timedelta(seconds=2)
    (final,) = deliveries(sqlite_url, campaign)
    assert final.status == "failed" and final.attempts == ledger.MAX_ATTEMPTS


def test_released_rows_go_back_without_counting_an_attempt(db_url: str) -> None:
    campaign = planned(db_url, 4)
    engine = engine_for(db_url)
    rows = ledger.claim(engine, campaign, worker="w", limit=4, now=NOW, lease=LEASE)
    ids = [r.delivery_id for r in rows]
    ledger.mark_handed(engine, ledger.DELIVERIES, ids[:2], worker="w", now=NOW)
    ledger.record(engine, ledger.DELIVERIES, [ledger.Result(ids[0], "sent")], now=NOW, worker="w")
    # only the worker's own unanswered rows go back: not the sent one, not another's
    assert ledger.release(engine, ledger.DELIVERIES, ids, worker="someone else") == 0
    assert ledger.release(engine, ledger.DELIVERIES, ids, worker="w") == 3
    by_id = {d.id: d for d in deliveries(db_url, campaign)}
    assert by_id[ids[0]].status == "sent"
    for i in ids[1:]:
        assert (by_id[i].status, by_id[i].attempts, by_id[i].handed_at) == ("pending", 0, None)
    again = ledger.claim(engine, campaign, worker="v", limit=4, now=NOW, lease=LEASE)
    assert sorted(r.delivery_id for r in again) == ids[1:]
    assert not any(d.maybe_duplicate for d in deliveries(db_url, campaign))


def test_posts_share_the_mechanism(sqlite_url: str) -> None:
    engine = engine_for(sqlite_url)
    campaign = add_campaign(sqlite_url, channel="social")
    table = table_of(SocialPost)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.insert(table),
            [
                {
                    "campaign_id": campaign,
                    "network": "mastodon",
                    "account": "mastodon",
                    "locale": locale,
                    "text": "hello",
                    "idempotency_key": f"k-{locale}",
                    "composed_at": NOW,
                    "status": "pending",
                    "due_at": NOW,
                }
                for locale in ("en", "fr")
            ],
        )
    ids = ledger.claim_rows(
        engine,
        ledger.POSTS,
        campaign,
        worker="w",
        limit=10,
        now=NOW,
        lease=LEASE,
        read=lambda _connection, ids: ids,
    )
    ledger.record(
        engine,
        ledger.POSTS,
        [
            ledger.Result(ids[0], "sent", remote_id="109", url="https://social.example/@a/109"),
            ledger.Result(ids[1], "transient", reply="429 slow down", retry_after=90),
        ],
        now=NOW,
        worker="w",
    )
    with engine.connect() as connection:
        rows = {r.id: r for r in connection.execute(sa.select(table))}
    assert (rows[ids[0]].status, rows[ids[0]].posted_at, rows[ids[0]].remote_id) == (
        "sent",
        NOW,
        "109",
    )
    assert (rows[ids[1]].status, rows[ids[1]].due_at) == ("pending", NOW + timedelta(seconds=90))


@pytest.mark.parametrize("seconds", [0, 2])
def test_the_shipped_lease_is_tens_of_seconds_and_refuses_less_than_three(
    seconds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    from alumni.settings import Settings

    assert Settings().claim_lease_seconds == 30
    monkeypatch.setenv("ALUMNI_CLAIM_LEASE_SECONDS", str(seconds))
    with pytest.raises(ValidationError, match="claim_lease_seconds"):
        Settings()


def test_unsent_rows_are_read_in_id_order_chunk_by_chunk_past_other_campaigns(
    db_url: str,
) -> None:
    engine = engine_for(db_url)
    first = planned(db_url, 5)
    ids = sorted(d.alumnus_id for d in deliveries(db_url, first))
    later, other = add_campaign(db_url), add_campaign(db_url)
    # later's rows lie on both sides of other's: one planned before, four after
    planning.plan(engine, later, now=NOW, options=OPTIONS, only=ids[:1])
    planning.plan(engine, other, now=NOW, options=OPTIONS)
    planning.plan(engine, later, now=NOW, options=OPTIONS, only=ids[1:])
    (sent,) = ledger.claim(engine, later, worker="w", limit=1, now=NOW, lease=LEASE)
    ledger.record(
        engine, ledger.DELIVERIES, [ledger.Result(sent.delivery_id, "sent")], now=NOW, worker="w"
    )
    unsent = sorted(d.id for d in deliveries(db_url, later) if d.status == "pending")
    assert len(unsent) == 4 and min(d.id for d in deliveries(db_url, other)) < unsent[-1]

    def read(campaign: int, **window: int) -> list[int]:
        return [r.delivery_id for r in ledger.iter_unsent(engine, campaign, chunk=2, **window)]

    assert read(later) == unsent
    assert read(first) == sorted(d.id for d in deliveries(db_url, first))
    assert read(later, after=unsent[0], through=unsent[2]) == unsent[1:3]
