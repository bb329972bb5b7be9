"""Import benchmark: N generated alumni (default 1,000,000) from CSV into a fresh SQLite file.

Prints rows/s, the resident memory along the way (it should stay flat), and a ceiling measured
in the same run: the same file read with the csv module and its alumni rows written raw with
one Core executemany per batch (no validation, no contacts, no consents). Run:

    .venv/bin/python bench/import.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alumni.db import engine_for, upgrade, write_transaction
from alumni.models import Alumnus, table_of, utcnow
from alumni.people.importing import import_csv
from alumni.people.seeding import generate_rows, write_csv


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def ceiling(path: Path, url: str, batch: int) -> float:
    upgrade(url)
    engine = engine_for(url)
    table = table_of(Alumnus)
    now = utcnow()
    start = time.perf_counter()
    count = 0
    with path.open(encoding="utf-8", newline="") as handle, write_transaction(engine) as conn:
        reader = csv.DictReader(handle)
        while rows := list(islice(reader, batch)):
            conn.execute(
                sa.insert(table),
                [
                    {
                        "external_id": r["external_id"],
                        "first_name": r["first_name"],
                        "last_name": r["last_name"],
                        "class_year": int(r["class_year"]),
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for r in rows
                ],
            )
            count += len(rows)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="folder for the CSV and databases")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="alumni-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "alumni.csv"
    today = date(2026, 11, 28)

    start = time.perf_counter()
    write_csv(path, generate_rows(args.rows, seed=7, today=today))
    print(
        f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - start:.1f} s"
    )

    for stale in folder.glob("*.db*"):  # a --keep folder of an earlier run: start empty
        stale.unlink()
    url = f"sqlite:///{folder / 'import.db'}"
    upgrade(url)
    samples: list[float] = []
    step = max(args.rows // 10, args.batch)

    def progress(done: int) -> None:
        if done % step < args.batch:
            samples.append(rss_mb())

    start = time.perf_counter()
    result = import_csv(
        engine_for(url), path, today=today, batch_size=args.batch, progress=progress
    )
    elapsed = time.perf_counter() - start
    assert result.committed and not result.problems, result.problems[:5]
    rate = result.rows / elapsed
    top = ceiling(path, f"sqlite:///{folder / 'ceiling.db'}", args.batch)
    with engine_for(url).connect() as conn:
        contacts = conn.exec_driver_sql("SELECT count(*) FROM contactpoint").scalar_one()
        consents = conn.exec_driver_sql("SELECT count(*) FROM consent").scalar_one()
    print(
        f"import: {result.rows:,} rows ({contacts:,} contact points, {consents:,} consents) "
        f"in {elapsed:.1f} s = {rate:,.0f} rows/s"
    )
    print(
        f"ceiling (csv read + raw alumni insert, same file): {top:,.0f} rows/s; "
        f"ratio {rate / top:.2f}"
    )
    print("resident memory during import (MB, every 10%): " + " ".join(f"{s:.0f}" for s in samples))


if __name__ == "__main__":
    main()
