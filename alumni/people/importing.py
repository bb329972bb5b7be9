"""``alumni import``: load the office's spreadsheet (CSV) into the database.

The file is streamed: rows are checked, then written in batches with SQLAlchemy Core, all
inside one transaction. If any row is invalid (and invalid rows are not to be skipped), or on
a dry run, the transaction is rolled back and the database is exactly as it was.

Re-importing the same file changes nothing. A changed email or phone does not overwrite the old
one: the old contact point is kept with ``superseded_at`` and the import that replaced it.
A blank cell means "not known", never "delete".

A row that carries the external id or an address of an erased alum (``erasure_list``), or the
id of an erasure's tombstone, is refused like an invalid row: nothing of it is written. A row
the csv module cannot read (a cell over its size limit, usually a quote never closed) is a
problem of that row, and reading goes on with the next line. Rejected rows go to
``NAME.rejected.csv`` as they are found (``rejected_rows``); only the first
``KEPT_PROBLEMS`` problems are kept in the result, and ``problem_count`` counts them all.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import bulk_load, insert_rows, one_of, stored_time, write_transaction
from alumni.models import (
    Alumnus,
    AlumnusStatus,
    Ambassador,
    Consent,
    ContactPoint,
    ImportRun,
    table_of,
    utcnow,
)
from alumni.people.erasure_list import EXTERNAL_ID, anything_erased, erased_among
from alumni.people.rejected_rows import RejectedFile, rejected_path
from alumni.people.suppression import anything_suppressed, suppressed_scopes
from alumni.people.validation import COLUMNS, REQUIRED_COLUMNS, CleanRow, Problem, check_row

_A = table_of(Alumnus)
_CP = table_of(ContactPoint)
_CO = table_of(Consent)
_AM = table_of(Ambassador)
_RUN = table_of(ImportRun)
_PERSON_FIELDS = (
    "first_name",
    "last_name",
    "class_year",
    "programme",
    "country",
    "city",
    "timezone",
    "locale",
    "status",
)
# A CleanRow's fields 1 to 10 (external_id to status) are an alumnus row's, in this order.
assert CleanRow._fields[1:11] == ("external_id", *_PERSON_FIELDS)
KEPT_PROBLEMS = 1000  # problems kept in an ImportResult; problem_count counts every one

# A row's spreadsheet number, and its cells by column or why it could not be read.
RawRow = tuple[int, dict[str, str] | Problem]
# Called with each rejected row as it is found: number, cells (empty if unreadable), problems.
RejectSink = Callable[[int, dict[str, str], list[Problem]], None]


class CsvFileError(Exception):
    """The file cannot be read as an alumni CSV at all (encoding, header)."""


@dataclass
class ImportResult:
    """What an import did (or, on a dry run or failure, would have done)."""

    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first KEPT_PROBLEMS
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    rejected_rows: int = 0
    rejected_file: Path | None = None
    committed: bool = False
    import_id: int | None = None

    def reject(self, problems: list[Problem]) -> None:
        """Count one rejected row and keep its problems while fewer than KEPT_PROBLEMS are."""
        self.rejected_rows += 1
        self.problem_count += len(problems)
        self.problems.extend(problems[: max(0, KEPT_PROBLEMS - len(self.problems))])


def read_rows(path: Path) -> tuple[list[str], Iterator[RawRow]]:
    """Open a CSV (UTF-8 with or without BOM; delimiter sniffed) and return its header and rows.

    Rows come with their spreadsheet row number (the header is row 1), each with its cells by
    column, or with the ``Problem`` that kept it from being read (reading goes on after it).

    Raises:
        CsvFileError: the file is not UTF-8, is empty, or its header is unreadable or lacks a
            required column.
    """
    handle = path.open(encoding="utf-8-sig", newline="")
    try:
        sample = handle.read(64 * 1024)
    except UnicodeDecodeError as exc:
        handle.close()
        raise CsvFileError(_not_utf8(path, exc)) from None
    if not sample.strip():
        handle.close()
        raise CsvFileError(f"{path} is empty: export the spreadsheet with a header row")
    try:
        # Only the delimiter: sniffing the header row alone cannot see how quotes are escaped,
        # and spreadsheets double them ("Robert ""Bob"" Lima"), as the excel dialect reads.
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    handle.seek(0)
    if handle.read(1) != "\ufeff":
        handle.seek(0)
    reader = csv.reader(handle, csv.excel, delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        handle.close()
        raise CsvFileError(
            f"{path}: the header row cannot be read ({exc}); export the spreadsheet again"
        ) from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        handle.close()
        raise CsvFileError(
            f"{path}: the header lacks column(s) {', '.join(missing)}; "
            f"the columns are: {', '.join(COLUMNS)}"
        )

    def rows() -> Iterator[RawRow]:
        try:
            number = 1
            while True:
                number += 1
                first_line = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield number, _unreadable(number, exc, first_line, reader.line_num)
                    if reader.line_num < first_line:  # nothing was consumed: no way forward
                        return
                    continue
                if any(cell.strip() for cell in cells):
                    yield number, dict(zip(header, cells, strict=False))
        except UnicodeDecodeError as exc:
            raise CsvFileError(_not_utf8(path, exc)) from None
        finally:
            handle.close()

    return header, rows()


def _unreadable(number: int, exc: csv.Error, first_line: int, last_line: int) -> Problem:
    lines = f"line {first_line}" if last_line <= first_line else f"lines {first_line}-{last_line}"
    hint = (
        'a cell this long is usually a quote (") that is never closed'
        if "field larger than field limit" in str(exc)
        else "the row is not valid CSV"
    )
    return Problem(
        number,
        "",
        "",
        f"cannot be read ({exc}; {lines} of the file): {hint}; correct it in the spreadsheet "
        "and export it again",
    )


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> str:
    return (
        f"{path} is not UTF-8 text ({exc.reason} near byte {exc.start}); in the spreadsheet, "
        "save it as 'CSV UTF-8'"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_csv(
    engine: Engine,
    path: Path,
    *,
    today: date,
    dry_run: bool = False,
    skip_invalid: bool = False,
    batch_size: int = 5000,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    signing_key: bytes | None = None,
) -> ImportResult:
    """Import alumni from the CSV at ``path``; see the module docstring for the guarantees.

    Args:
        engine: the database.
        path: the CSV file.
        today: bounds class years and verification dates.
        dry_run: check and count everything, then roll back.
        skip_invalid: import the valid rows, and write the rejected ones with their reasons
            to ``<name>.rejected.csv`` beside the input.
        batch_size: rows per write batch.
        workers: processes that check rows (default: one per core for files over 20 MB,
            else none: checking in this process is cheaper for small files).
        progress: called with the number of rows read so far, once per batch.
        signing_key: keys the erasure and suppression lookups; None reads the settings.

    Raises:
        CsvFileError: the file cannot be read as an alumni CSV at all.
        WrongHashKey: the erasure and suppression lists were made with another signing key.
    """
    header, rows = read_rows(path)
    if workers is None:
        workers = (os.cpu_count() or 1) if path.stat().st_size > 20_000_000 else 1
    rejected = RejectedFile(rejected_path(path), header) if skip_invalid and not dry_run else None
    try:
        result = import_rows(
            engine,
            rows,
            header=header,
            filename=path.name,
            sha256=file_sha256(path),
            today=today,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            batch_size=batch_size,
            workers=workers,
            progress=progress,
            on_rejected=None if rejected is None else rejected.write,
            signing_key=signing_key,
        )
    except BaseException:
        if rejected is not None:
            rejected.discard()
        raise
    if rejected is not None:
        result.rejected_file = rejected.close()
    return result


def _check_batch(batch: list[RawRow], today: date) -> list[CleanRow | list[Problem]]:
    return [
        check_row(number, values, today=today) if isinstance(values, dict) else [values]
        for number, values in batch
    ]


# A row as sent to a checking process: its cells without their column names, which travel
# once per batch (pickle sends an object referenced many times only once).
_PackedRow = tuple[int, tuple[str, ...], list[str] | Problem]


def _pack(batch: list[RawRow]) -> list[_PackedRow]:
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    packed: list[_PackedRow] = []
    for number, values in batch:
        if isinstance(values, dict):
            names = tuple(values)
            packed.append((number, shared.setdefault(names, names), list(values.values())))
        else:
            packed.append((number, (), values))
    return packed


def _check_packed(batch: list[_PackedRow], today: date) -> list[CleanRow | list[Problem]]:
    rows: list[RawRow] = []
    for number, names, values in batch:
        if isinstance(values, Problem):
            rows.append((number, values))
        else:
            rows.append((number, dict(zip(names, values, strict=True))))
    return _check_batch(rows, today)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while an import makes millions of objects.

    An import creates (and frees, by reference counting) a few objects per cell, and no cycles;
    the default thresholds ran a collection every 700 of them, which cost a third of the time.
    """
    old = gc.get_threshold()
    gc.freeze()  # what exists already is never collected again during the import
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _start_checker() -> None:
    gc.set_threshold(100_000, 50, 1000)  # a checking process lives for one import only


def _checked_batches(
    rows: Iterable[RawRow], batch_size: int, today: date, workers: int
) -> Iterator[tuple[list[RawRow], list[CleanRow | list[Problem]]]]:
    """Yield (batch, check outcome per row), in order; checked in other processes if asked.

    At most ``workers + 1`` batches are in flight, so memory stays flat whatever the file size.
    """
    source = iter(rows)
    if workers <= 1:
        while batch := list(islice(source, batch_size)):
            yield batch, _check_batch(batch, today)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_checker
    ) as pool:
        in_flight: deque[tuple[list[RawRow], Future[Any]]] = deque()
        while True:
            while len(in_flight) <= workers and (batch := list(islice(source, batch_size))):
                in_flight.append((batch, pool.submit(_check_packed, _pack(batch), today)))
            if not in_flight:
                return
            batch, future = in_flight.popleft()
            yield batch, future.result()


class _Rollback(Exception):
    """Raised inside the import transaction to undo it."""


def import_rows(
    engine: Engine,
    rows: Iterable[RawRow],
    *,
    header: list[str],
    filename: str,
    sha256: str,
    today: date,
    dry_run: bool = False,
    skip_invalid: bool = False,
    batch_size: int = 5000,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    on_rejected: RejectSink | None = None,
    signing_key: bytes | None = None,
) -> ImportResult:
    """Import rows given as (row number, cells by column); ``import_csv`` without the file.

    With ``workers`` > 1, rows are checked in that many other processes while this one writes.
    ``on_rejected`` is called with each rejected row as soon as it is known.
    """
    result = ImportResult(filename=filename)
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        result.warnings.append(f"column(s) {', '.join(unknown)} are not used and were ignored")
    now = utcnow()
    try:
        with _fewer_collections(), write_transaction(engine) as connection, bulk_load(connection):
            run_id: int = connection.execute(
                sa.insert(_RUN)
                .values(filename=filename, sha256=sha256, started_at=now)
                .returning(_RUN.c.id)
            ).scalar_one()
            writer = _Writer(
                connection,
                run_id=run_id,
                now=now,
                filename=filename,
                result=result,
                signing_key=signing_key,
            )

            def reject(
                number: int, values: dict[str, str] | Problem, problems: list[Problem]
            ) -> None:
                result.reject(problems)
                if on_rejected is not None:
                    on_rejected(number, values if isinstance(values, dict) else {}, problems)

            for batch, outcomes in _checked_batches(rows, batch_size, today, workers):
                clean: list[CleanRow] = []
                for (number, values), checked in zip(batch, outcomes, strict=True):
                    if isinstance(checked, list):
                        reject(number, values, checked)
                    else:
                        clean.append(checked)
                result.rows += len(batch)
                raw_values = dict(batch)
                by_row: dict[int, list[Problem]] = {}
                for problem in writer.write(clean):
                    by_row.setdefault(problem.row, []).append(problem)
                for number, problems in by_row.items():
                    reject(number, raw_values[number], problems)
                if progress is not None:
                    progress(result.rows)
            connection.execute(
                sa.update(_RUN)
                .where(_RUN.c.id == run_id)
                .values(
                    finished_at=utcnow(),
                    rows_total=result.rows,
                    rows_created=result.created,
                    rows_updated=result.updated,
                    rows_unchanged=result.unchanged,
                    rows_rejected=result.rejected_rows,
                )
            )
            if dry_run or (result.problem_count and not skip_invalid):
                raise _Rollback
            result.import_id = run_id
            result.committed = True
    except _Rollback:
        pass
    return result


class _Writer:
    """Writes batches of clean rows: inserts new alumni, updates changed ones, keeps history."""

    def __init__(
        self,
        connection: Connection,
        *,
        run_id: int,
        now: datetime,
        filename: str,
        result: ImportResult,
        signing_key: bytes | None,
    ) -> None:
        self.connection = connection
        self.run_id = run_id
        self.now = now
        self.source = f"import #{run_id} ({filename})"
        self.result = result
        self.signing_key = signing_key
        # Nobody erased or suppressed yet (a first load): no row needs hashing.
        self.check_erased = anything_erased(connection)
        self.check_suppressed = anything_suppressed(connection)

    def write(self, rows: list[CleanRow]) -> list[Problem]:
        """Write one batch; return the problems only visible against the database.

        A row with a problem is left out whole: nothing of it is written.
        """
        problems: list[Problem] = []
        unique: dict[str, CleanRow] = {}
        for row in rows:
            first = unique.get(row.external_id)
            if first is not None:
                problems.append(_duplicate(row, first.row))
            else:
                unique[row.external_id] = row
        problems.extend(self._refuse_erased(unique))
        if not unique:
            return problems
        existing = {
            r.external_id: r
            for r in self.connection.execute(
                sa.select(
                    _A.c.id,
                    _A.c.external_id,
                    _A.c.last_import_id,
                    *(_A.c[name] for name in _PERSON_FIELDS),
                ).where(one_of(self.connection, _A.c.external_id, list(unique)))
            )
        }
        ids: dict[str, int] = {}
        changed_people: set[str] = set()
        new_rows: list[CleanRow] = []
        updates: list[dict[str, Any]] = []
        refused: list[str] = []
        for external_id, row in unique.items():
            found = existing.get(external_id)
            if found is None:
                new_rows.append(row)
                continue
            if found.status == AlumnusStatus.erased:
                problems.append(_erased(row, "external_id", external_id, tombstone=True))
                refused.append(external_id)
                continue
            if found.last_import_id == self.run_id:
                problems.append(_duplicate(row, None))
                refused.append(external_id)
                continue
            ids[external_id] = found.id
            changes = {
                name: getattr(row, name)
                for name in _PERSON_FIELDS
                if getattr(row, name) is not None and getattr(row, name) != getattr(found, name)
            }
            if changes:
                changes["updated_at"] = self.now
                changed_people.add(external_id)
            updates.append({"b_id": found.id, "last_import_id": self.run_id, **changes})
        for external_id in refused:
            del unique[external_id]
        if new_rows:
            self._insert_people(new_rows)
            ids.update(
                (r.external_id, r.id)
                for r in self.connection.execute(
                    sa.select(_A.c.external_id, _A.c.id).where(
                        one_of(self.connection, _A.c.external_id, [r.external_id for r in new_rows])
                    )
                )
            )
            self.result.created += len(new_rows)
        self._update_people(updates)
        created = {row.external_id for row in new_rows}
        changed_details = self._write_contacts(unique, ids, new=created)
        changed_details |= self._write_consents(unique, ids, new=created)
        changed_details |= self._write_ambassadors(unique, ids)
        self._warn_suppressed(unique)
        for external_id in ids.keys() - created:
            if external_id in changed_people or external_id in changed_details:
                self.result.updated += 1
            else:
                self.result.unchanged += 1
        return problems

    def _insert_people(self, rows: list[CleanRow]) -> None:
        now = stored_time(self.connection, self.now)
        insert_rows(
            self.connection,
            _A,
            ("external_id", *_PERSON_FIELDS, "created_at", "updated_at", "last_import_id"),
            [(*row[1:11], now, now, self.run_id) for row in rows],
        )

    def _update_people(self, updates: list[dict[str, Any]]) -> None:
        """Apply per-person changes, one executemany per set of changed columns."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for update in updates:
            by_columns.setdefault(tuple(sorted(k for k in update if k != "b_id")), []).append(
                update
            )
        for columns, group in by_columns.items():
            self.connection.execute(
                sa.update(_A)
                .where(_A.c.id == sa.bindparam("b_id"))
                .values({name: sa.bindparam(name) for name in columns}),
                group,
            )

    def _write_contacts(
        self, rows: dict[str, CleanRow], ids: dict[str, int], *, new: set[str]
    ) -> set[str]:
        old_ids = [ids[e] for e in ids if e not in new]
        current: dict[tuple[int, str], Any] = {}
        if old_ids:
            for r in self.connection.execute(
                sa.select(
                    _CP.c.id,
                    _CP.c.alumnus_id,
                    _CP.c.kind,
                    _CP.c.value,
                    _CP.c.status,
                    _CP.c.verified_at,
                    _CP.c.label,
                ).where(
                    one_of(self.connection, _CP.c.alumnus_id, old_ids),
                    _CP.c.superseded_at.is_(None),
                )
            ):
                current[(r.alumnus_id, r.kind)] = r
        inserts: list[tuple[Any, ...]] = []
        now = stored_time(self.connection, self.now)
        supersede: list[dict[str, Any]] = []
        refresh: list[dict[str, Any]] = []
        changed: set[str] = set()
        for external_id, row in rows.items():
            alumnus_id = ids.get(external_id)
            if alumnus_id is None:
                continue
            for contact in row.contacts:
                held = current.get((alumnus_id, contact.kind))
                if held is not None and held.value == contact.value:
                    newer = contact.verified_at is not None and (
                        held.verified_at is None or contact.verified_at > held.verified_at
                    )
                    if newer or contact.status != held.status:
                        refresh.append(
                            {
                                "b_id": held.id,
                                "status": contact.status,
                                "verified_at": max(
                                    filter(None, (held.verified_at, contact.verified_at))
                                ),
                            }
                        )
                        changed.add(external_id)
                    continue
                if held is not None:
                    supersede.append({"b_id": held.id})
                    changed.add(external_id)
                elif external_id not in new:
                    changed.add(external_id)
                inserts.append(
                    (
                        alumnus_id,
                        contact.kind,
                        contact.value,
                        contact.label,
                        contact.source or self.source,
                        stored_time(self.connection, contact.verified_at),
                        contact.status,
                        now,
                        self.run_id,
                    )
                )
        if supersede:
            self.connection.execute(
                sa.update(_CP)
                .where(_CP.c.id == sa.bindparam("b_id"))
                .values(superseded_at=self.now, superseded_by_import_id=self.run_id),
                supersede,
            )
        if refresh:
            self.connection.execute(
                sa.update(_CP)
                .where(_CP.c.id == sa.bindparam("b_id"))
                .values(status=sa.bindparam("status"), verified_at=sa.bindparam("verified_at")),
                refresh,
            )
        insert_rows(self.connection, _CP, _CONTACT_COLUMNS, inserts)
        return changed

    def _write_consents(
        self, rows: dict[str, CleanRow], ids: dict[str, int], *, new: set[str]
    ) -> set[str]:
        wanted = [(e, r) for e, r in rows.items() if e in ids and r.consents]
        if not wanted:
            return set()
        latest: dict[tuple[int, str], bool] = {}
        alumnus_ids = [ids[e] for e, _ in wanted if e not in new]
        if alumnus_ids:
            for r in self.connection.execute(
                sa.select(_CO.c.alumnus_id, _CO.c.purpose, _CO.c.granted)
                .where(one_of(self.connection, _CO.c.alumnus_id, alumnus_ids))
                .order_by(_CO.c.at, _CO.c.id)
            ):
                latest[(r.alumnus_id, r.purpose)] = r.granted
        inserts: list[tuple[Any, ...]] = []
        changed: set[str] = set()
        now, run_id = stored_time(self.connection, self.now), self.run_id
        for external_id, row in wanted:
            alumnus_id = ids[external_id]
            evidence = row.consent_evidence or f"{self.source}, row {row.row}"
            for purpose, granted in row.consents.items():
                if latest.get((alumnus_id, purpose)) == granted:
                    continue
                if (alumnus_id, purpose) in latest:
                    changed.add(external_id)
                inserts.append((alumnus_id, purpose, "any", granted, now, run_id, evidence))
        insert_rows(self.connection, _CO, _CONSENT_COLUMNS, inserts)
        return changed

    def _write_ambassadors(self, rows: dict[str, CleanRow], ids: dict[str, int]) -> set[str]:
        wanted = {ids[e]: (e, r) for e, r in rows.items() if e in ids and r.ambassador is not None}
        if not wanted:
            return set()
        held = {
            (r.alumnus_id, r.class_year)
            for r in self.connection.execute(
                sa.select(_AM.c.alumnus_id, _AM.c.class_year).where(
                    one_of(self.connection, _AM.c.alumnus_id, list(wanted))
                )
            )
        }
        changed: set[str] = set()
        inserts = []
        for alumnus_id, (external_id, row) in wanted.items():
            key = (alumnus_id, row.class_year)
            if row.ambassador and key not in held:
                inserts.append(
                    {"alumnus_id": alumnus_id, "class_year": row.class_year, "since": self.now}
                )
                changed.add(external_id)
            elif row.ambassador is False and key in held:
                self.connection.execute(
                    sa.delete(_AM).where(
                        _AM.c.alumnus_id == alumnus_id, _AM.c.class_year == row.class_year
                    )
                )
                changed.add(external_id)
        if inserts:
            self.connection.execute(sa.insert(_AM), inserts)
        return changed

    def _refuse_erased(self, rows: dict[str, CleanRow]) -> list[Problem]:
        """Take out of ``rows`` those that carry an erased alum's external id or address."""
        if not self.check_erased or not rows:
            return []
        carried = {
            external_id: [(EXTERNAL_ID, external_id)] + [(c.kind, c.value) for c in row.contacts]
            for external_id, row in rows.items()
        }
        erased = erased_among(
            self.connection,
            (identifier for identifiers in carried.values() for identifier in identifiers),
            signing_key=self.signing_key,
        )
        problems = []
        for external_id, identifiers in carried.items():
            hit = next((i for i in identifiers if i in erased), None)
            if hit is not None:
                problems.append(_erased(rows.pop(external_id), hit[0], hit[1], tombstone=False))
        return problems

    def _warn_suppressed(self, rows: dict[str, CleanRow]) -> None:
        addresses = {
            (contact.kind, contact.value): row for row in rows.values() for contact in row.contacts
        }
        if not addresses or not self.check_suppressed:
            return
        found = suppressed_scopes(self.connection, addresses, signing_key=self.signing_key)
        for (kind, _value), scopes in found.items():
            row = addresses[(kind, _value)]
            self.result.warnings.append(
                f"row {row.row}: the {kind} of {row.external_id} is on the suppression list "
                f"({', '.join(sorted(scopes))}); it was imported, and campaigns will skip it"
            )


_CONTACT_COLUMNS = (
    "alumnus_id",
    "kind",
    "value",
    "label",
    "source",
    "verified_at",
    "status",
    "created_at",
    "import_run_id",
)
_CONSENT_COLUMNS = (
    "alumnus_id",
    "purpose",
    "channel",
    "granted",
    "at",
    "import_run_id",
    "evidence",
)


def _duplicate(row: CleanRow, first_row: int | None) -> Problem:
    earlier = f"row {first_row}" if first_row else "an earlier row"
    return Problem(
        row.row,
        "external_id",
        row.external_id,
        f"appears again (first at {earlier}); keep one row per person",
    )


def _erased(row: CleanRow, column: str, value: str, *, tombstone: bool) -> Problem:
    what = "is the id kept for an alum" if tombstone else "belongs to an alum"
    return Problem(
        row.row,
        column,
        value,
        f"{what} who was erased at their request (GDPR art. 17): they must not be imported "
        "again; delete this row from the spreadsheet (nothing of it was written)",
    )
