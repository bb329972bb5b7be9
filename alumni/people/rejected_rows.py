"""``NAME.rejected.csv``: the rows an import skipped, with their reasons, written as they come.

The file is opened at the first rejected row and each row is on disk once written (line
buffered), so a file of any size is never held in memory. A cell that a spreadsheet would run
as a formula (one starting ``=``, ``+``, ``-``, ``@``, tab or carriage return) is written with a
leading ``'``, so opening the file shows the text and runs nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

from alumni.people.validation import Problem

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Return ``cell`` as a spreadsheet shows it as text: with a leading ``'`` if it could run."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def rejected_path(source: Path) -> Path:
    """Return where the rejected rows of ``source`` go: ``NAME.rejected.csv`` beside it."""
    return source.with_name(f"{source.stem}.rejected.csv")


class RejectedFile:
    """The rejected rows of one import, streamed to ``path`` (columns: row, the header, problems).

    Call ``write`` for each rejected row, then ``close`` (keep the file) or ``discard`` (the
    import failed: remove it).
    """

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self.rows = 0
        self._handle: IO[str] | None = None

    def write(self, row: int, values: dict[str, str], problems: list[Problem]) -> None:
        """Append one rejected row with its problems."""
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="", buffering=1)
            self._line(["row", *self.header, "problems"])
        reasons = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems)
        self._line([str(row), *(values.get(name, "") for name in self.header), reasons])
        self.rows += 1

    def _line(self, cells: list[str]) -> None:
        assert self._handle is not None
        csv.writer(self._handle).writerow([neutralise(cell) for cell in cells])

    def close(self) -> Path | None:
        """Finish the file; return its path, or None when no row was rejected."""
        if self._handle is None:
            return None
        self._handle.close()
        return self.path

    def discard(self) -> None:
        """Close and remove the file (the import wrote nothing, so neither does this)."""
        if self._handle is not None:
            self._handle.close()
            self.path.unlink(missing_ok=True)
            self._handle = None
