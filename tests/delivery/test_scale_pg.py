"""Scale-out on PostgreSQL: two `alumni campaign run` processes on one campaign of 20,000.

Each process is the command an officer (or a Prefect worker) runs, on a real PostgreSQL server,
reporting to the session's real Prefect server and sending to a real SMTP server (aiosmtpd).
Every alum gets exactly one message (counted at the server by Message-ID and on the ledger),
the campaign is preflighted once, and the process that joined renders only what it sends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.delivery import ledger
from alumni.delivery.campaigns import create
from alumni.models import Campaign, Delivery, table_of, utcnow
from alumni.settings import get_settings
from bench.population import YEAR, daytime_zone, populate
from tests.factories import planned_class
from tests.smtp_server import Recorder, Serve

ROOT = Path(__file__).resolve().parents[2]
CLASS_SIZE = 20_000
LEASE = timedelta(seconds=30)  # the shipped ALUMNI_CLAIM_LEASE_SECONDS
MESSAGE_ID = re.compile(rb"^Message-ID: *(<[^>]+>)", re.MULTILINE | re.IGNORECASE)
PREFLIGHT = re.compile(r"preflight rendered (\d+) recipients")
SENT = re.compile(r"this run sent (\d+); rendered (\d+) while sending")


def campaign_run(campaign_id: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "alumni.cli.main", "campaign", "run", str(campaign_id), "--no-wait"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_processes_send_one_campaign_each_alum_once_and_preflight_it_once(
    db_url: str, prefect_api: str, serve: Serve, tmp_path: Path
) -> None:
    recorder = Recorder()
    smtp = serve(recorder)
    populate(db_url, CLASS_SIZE, daytime_zone(utcnow()))
    get_settings().signing_key()  # one key file for both processes, made before they start
    ((campaign_id, _),) = create(
        engine_for(db_url),
        name="reunion",
        class_years=[YEAR],
        template="reunion",
        templates=get_settings().templates_dir,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PREFECT_API_URL": prefect_api,
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ALUMNI_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?tls=none",
        "ALUMNI_SEND_BATCH_SIZE": "1000",  # twenty batches to share out
        "ALUMNI_SEND_WORKERS": "2",
    }
    runs = [campaign_run(campaign_id, env) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]

    # at the server: every alum exactly one message, every Message-ID once
    assert len(recorder.received) == CLASS_SIZE
    assert Counter(r for m in recorder.received for r in m.rcpt_tos).most_common(1)[0][1] == 1
    ids = Counter(MESSAGE_ID.search(m.content).group(1) for m in recorder.received)  # type: ignore[union-attr]
    assert len(ids) == CLASS_SIZE and ids.most_common(1)[0][1] == 1
    # on the ledger: the same, and nothing flagged as maybe sent twice
    deliveries = table_of(Delivery)
    with engine_for(db_url).connect() as connection:
        ledger = connection.execute(
            sa.select(deliveries.c.status, deliveries.c.maybe_duplicate, sa.func.count())
            .where(deliveries.c.campaign_id == campaign_id)
            .group_by(deliveries.c.status, deliveries.c.maybe_duplicate)
        ).all()
        preflighted = connection.execute(
            sa.select(table_of(Campaign).c.preflighted_at).where(
                table_of(Campaign).c.id == campaign_id
            )
        ).scalar_one()
    assert ledger == [("sent", False, CLASS_SIZE)]
    assert preflighted is not None
    assert {m.message_id for m in _ledger_ids(db_url, campaign_id)} == {i.decode() for i in ids}

    # one preflight of the whole class; the other process joined and rendered what it sent
    preflights = [int(PREFLIGHT.search(out).group(1)) for out in outputs]  # type: ignore[union-attr]
    sends = [tuple(map(int, SENT.search(out).groups())) for out in outputs]  # type: ignore[union-attr]
    assert sorted(preflights) == [0, CLASS_SIZE]
    first, joiner = sorted(range(2), key=lambda n: -preflights[n])
    assert sends[first][1] == 0  # sent from its preflight's spool
    assert 0 < sends[joiner][0] == sends[joiner][1]  # rendered exactly what it sent
    assert sends[first][0] + sends[joiner][0] == CLASS_SIZE


def _ledger_ids(url: str, campaign_id: int) -> list[sa.Row[tuple[str]]]:
    deliveries = table_of(Delivery)
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(deliveries.c.message_id).where(deliveries.c.campaign_id == campaign_id)
            )
        )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_renewing_a_lease_skips_a_row_being_recorded_instead_of_waiting_for_it(
    db_url: str,
) -> None:
    """Waiting for it deadlocked the heartbeat against the receipt writer (seen in
    bench/scale.py: each held rows the other wanted)."""
    campaign_id = planned_class(db_url, 3, now=utcnow())
    engine = engine_for(db_url)
    later = utcnow() + timedelta(days=2)  # past each alum's local send time
    rows = ledger.claim(engine, campaign_id, worker="w", limit=3, now=later, lease=LEASE)
    assert len(rows) == 3
    # a renewal that waited for a lock would fail here instead of waiting forever
    impatient = sa.create_engine(db_url, connect_args={"options": "-c lock_timeout=3000"})
    deliveries = table_of(Delivery)
    with engine.connect() as writer:  # the receipt writer, in the middle of its transaction
        writer.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == rows[0].delivery_id)
            .values(status="sent", sent_at=utcnow())
        )
        renewed = ledger.renew(impatient, ledger.DELIVERIES, campaign_id, worker="w", now=utcnow())
        writer.commit()
    impatient.dispose()
    assert renewed == 2
