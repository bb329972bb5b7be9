"""Where a campaign stands and what a run does next, on SQLite and PostgreSQL: the rule that
every flow on the ledger shares, tested with a given ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger, progress
from alumni.models import Campaign, table_of
from tests.factories import planned_class

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)  # the shipped ALUMNI_CLAIM_LEASE_SECONDS
_C = table_of(Campaign)


def planned(url: str, size: int) -> int:
    return planned_class(url, size, now=NOW)


def state(**counts: object) -> progress.Progress:
    values: dict[str, object] = {
        "due": 0,
        "held": 0,
        "held_until": None,
        "later": 0,
        "next_due": None,
    }
    return progress.Progress(**{**values, **counts})  # type: ignore[arg-type]


def test_next_step_sends_waits_for_held_rows_and_stops_by_one_rule() -> None:
    soon = NOW + timedelta(seconds=25)
    assert progress.next_step(state(due=3), now=NOW, wait=False).action == "send"
    # rows another run holds are waited for even by a run that does not wait for later groups
    held = progress.next_step(state(held=793, held_until=soon), now=NOW, wait=False)
    assert held.action == "wait" and held.until == NOW + progress.HELD_POLL
    assert held.why.startswith("793 rows held by another run; waiting for its lease")
    lapsing = progress.next_step(
        state(held=5, held_until=NOW + timedelta(seconds=1)), now=NOW, wait=False
    )
    assert lapsing.until == NOW + timedelta(seconds=1)
    # later groups: waited for only with wait, and never past a window
    tomorrow = NOW + timedelta(days=1)
    later = state(later=10, next_due=tomorrow)
    assert progress.next_step(later, now=NOW, wait=True) == progress.Step(
        "wait", tomorrow, progress.next_step(later, now=NOW, wait=True).why
    )
    assert progress.next_step(later, now=NOW, wait=False).action == "stop"
    past = progress.next_step(later, now=NOW, wait=True, window_ends_at=NOW + timedelta(hours=1))
    assert past.action == "stop" and "after the window" in past.why
    done = progress.next_step(state(), now=NOW, wait=True)
    assert done.action == "stop" and state().done
    assert not state(held=1, held_until=soon).done and not later.done


def test_progress_and_finish_follow_the_rows(db_url: str) -> None:
    campaign = planned(db_url, 4)
    engine = engine_for(db_url)
    rows = ledger.claim(engine, campaign, worker="a", limit=2, now=NOW, lease=LEASE)
    with engine.connect() as connection:
        now_state = progress.read_progress(
            connection, ledger.DELIVERIES, campaign, now=NOW, lease=LEASE
        )
    assert (now_state.due, now_state.held, now_state.held_until) == (2, 2, NOW + LEASE)
    assert progress.finish(engine, ledger.DELIVERIES, campaign, now=NOW, lease=LEASE) == "sending"
    rest = ledger.claim(engine, campaign, worker="b", limit=2, now=NOW, lease=LEASE)
    ledger.record(
        engine,
        ledger.DELIVERIES,
        [ledger.Result(r.delivery_id, "sent") for r in rows + rest],
        now=NOW,
        worker="a",
    )
    with engine.connect() as connection:
        assert progress.read_progress(
            connection, ledger.DELIVERIES, campaign, now=NOW, lease=LEASE
        ).done
    assert progress.finish(engine, ledger.DELIVERIES, campaign, now=NOW, lease=LEASE) == "done"
    with engine.connect() as connection:
        row = connection.execute(sa.select(_C).where(_C.c.id == campaign)).one()
    assert (row.status, row.finished_at) == ("done", NOW)


def test_due_campaigns_include_rows_left_by_a_dead_run(db_url: str) -> None:
    campaign = planned(db_url, 2)
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        connection.execute(sa.update(_C).where(_C.c.id == campaign).values(status="sending"))
    ledger.claim(engine, campaign, worker="dead", limit=2, now=NOW, lease=LEASE)

    def due(at: datetime) -> list[int]:
        return progress.due_campaigns(
            engine, ledger.DELIVERIES, kinds=("email",), now=at, lease=LEASE
        )

    assert due(NOW + LEASE) == []
    assert due(NOW + LEASE + timedelta(seconds=1)) == [campaign]
    assert (
        progress.due_campaigns(
            engine, ledger.POSTS, kinds=("social",), now=NOW + 2 * LEASE, lease=LEASE
        )
        == []
    )
