"""A campaign is preflighted once, whichever run does it: runs that join render nothing, wait
for a preflight in progress (PostgreSQL), and stop if it failed. Planning on PostgreSQL
refreshes statistics a bulk load left stale."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import batches, ledger, planning
from alumni.models import Alumnus, Campaign, Delivery, table_of, utcnow
from tests.factories import add_alumnus, add_campaign


def plan(url: str, campaign_id: int) -> None:
    planning.plan(engine_for(url), campaign_id, now=utcnow(), options=planning.PlanOptions())


def counting(seen: list[int]) -> Callable[[Iterable[ledger.Claimed]], int]:
    def check(rows: Iterable[ledger.Claimed]) -> int:
        ids = [row.delivery_id for row in rows]
        seen.extend(ids)
        return len(ids)

    return check


def test_a_campaign_is_preflighted_once_and_rows_planned_later_by_the_next_run(
    db_url: str,
) -> None:
    for n in range(3):
        add_alumnus(db_url, f"P{n}", email=f"p{n}@example.org")
    campaign_id = add_campaign(db_url)
    plan(db_url, campaign_id)
    engine = engine_for(db_url)
    first: list[int] = []
    assert batches.preflight(engine, campaign_id, counting(first)) == 3
    assert batches.preflight(engine, campaign_id, counting([])) == 0  # a run that joins
    for n in range(3, 5):
        add_alumnus(db_url, f"P{n}", email=f"p{n}@example.org")
    plan(db_url, campaign_id)
    later: list[int] = []
    assert batches.preflight(engine, campaign_id, counting(later)) == 2
    assert min(later) > max(first)
    assert batches.preflight(engine, campaign_id, counting([]), again=True) == 5
    with engine.connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
    assert campaign.preflighted_at is not None
    assert campaign.preflighted_through == max(later)


def test_a_failed_preflight_stops_the_runs_that_join_before_they_render(db_url: str) -> None:
    add_alumnus(db_url, "F0", email="f0@example.org")
    campaign_id = add_campaign(db_url)
    plan(db_url, campaign_id)
    engine = engine_for(db_url)

    def broken(rows: Iterable[ledger.Claimed]) -> int:
        raise ValueError("delivery 1: `alum.frist_name` is undefined")

    with pytest.raises(ValueError, match="frist_name"):
        batches.preflight(engine, campaign_id, broken)
    joined: list[int] = []
    with pytest.raises(RuntimeError, match="was stopped: preflight failed"):
        batches.preflight(engine, campaign_id, counting(joined))
    assert joined == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_run_that_joins_waits_for_the_preflight_in_progress(db_url: str) -> None:
    for n in range(3):
        add_alumnus(db_url, f"W{n}", email=f"w{n}@example.org")
    campaign_id = add_campaign(db_url)
    plan(db_url, campaign_id)
    engine = engine_for(db_url)
    started, go = threading.Event(), threading.Event()
    rendered: dict[str, int] = {}

    def slow(rows: Iterable[ledger.Claimed]) -> int:
        started.set()
        go.wait(60)
        return len(list(rows))

    def run(name: str, check: Callable[[Iterable[ledger.Claimed]], int]) -> None:
        rendered[name] = batches.preflight(engine, campaign_id, check)

    first = threading.Thread(target=run, args=("first", slow))
    first.start()
    assert started.wait(60)
    joiner = threading.Thread(target=run, args=("joiner", counting([])))
    joiner.start()
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    with engine.connect() as connection:
        while connection.execute(waiting).scalar_one() == 0:  # the joiner queues on the lock
            connection.rollback()
            assert joiner.is_alive() and "joiner" not in rendered
            time.sleep(0.05)
    assert "joiner" not in rendered
    go.set()
    first.join(60)
    joiner.join(60)
    assert rendered == {"first": 3, "joiner": 0}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_planning_analyses_tables_a_bulk_load_left_without_statistics(db_url: str) -> None:
    add_alumnus(db_url, "S0", email="s0@example.org")
    engine = engine_for(db_url)
    tables = [table_of(Alumnus), table_of(Campaign)]
    with write_transaction(engine) as connection:
        stale = planning.refresh_statistics(connection, tables)
    assert "alumnus" in stale
    with write_transaction(engine) as connection:
        assert "alumnus" not in planning.refresh_statistics(connection, tables)


def test_a_run_that_joins_after_a_template_was_edited_renders_every_unsent_one_again(
    db_url: str, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    (templates / "email" / "reunion").mkdir(parents=True)
    body = templates / "email" / "reunion" / "en.txt.j2"
    body.write_text("Hello {{ alum.first_name }}\n")
    for n in range(3):
        add_alumnus(db_url, f"T{n}", email=f"t{n}@example.org")
    campaign_id = add_campaign(db_url)
    plan(db_url, campaign_id)
    engine = engine_for(db_url)
    assert batches.preflight(engine, campaign_id, counting([]), templates=templates) == 3
    assert batches.preflight(engine, campaign_id, counting([]), templates=templates) == 0
    with write_transaction(engine) as connection:  # one went out before the edit
        d = table_of(Delivery)
        first = connection.execute(sa.select(sa.func.min(d.c.id))).scalar_one()
        connection.execute(sa.update(d).where(d.c.id == first).values(status="sent"))

    body.write_text("Hello {{ alum.frist_name }}\n")  # the officer edits it mid-campaign
    again: list[int] = []
    assert batches.preflight(engine, campaign_id, counting(again), templates=templates) == 2
    assert first not in again  # what went out stays as it went
    assert batches.preflight(engine, campaign_id, counting([]), templates=templates) == 0

    def broken(rows: Iterable[ledger.Claimed]) -> int:
        raise ValueError("delivery 2: `alum.frist_name` is undefined")

    (templates / "email" / "reunion" / "es.txt.j2").write_text("Hola\n")  # a new file is an edit
    with pytest.raises(ValueError, match="frist_name"):
        batches.preflight(engine, campaign_id, broken, templates=templates)
    with engine.connect() as connection:
        assert ledger.load_campaign(connection, campaign_id).status == "stopped"


def test_the_template_digest_changes_with_any_name_or_content_and_nothing_else(
    tmp_path: Path,
) -> None:
    from alumni.messages.rendering import template_digest

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "en.txt.j2").write_text("x")
    first = template_digest(tmp_path)
    (tmp_path / "notes.md").write_text("not a template")
    assert template_digest(tmp_path) == first
    (tmp_path / "a" / "en.txt.j2").write_text("y")
    assert template_digest(tmp_path) != first
    (tmp_path / "a" / "en.txt.j2").write_text("x")
    assert template_digest(tmp_path) == first
    (tmp_path / "a" / "en.txt.j2").rename(tmp_path / "a" / "fr.txt.j2")
    assert template_digest(tmp_path) != first
