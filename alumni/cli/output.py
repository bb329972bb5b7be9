"""What every `alumni` command shares: the consoles, the error exit, a ready database."""

from __future__ import annotations

import sqlalchemy as sa
import typer
from rich.console import Console

from alumni.db import get_engine, require_current
from alumni.settings import get_settings

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error; return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)  # one line
    return typer.Exit(code)


def ready_engine() -> sa.Engine:
    """The engine of ALUMNI_DATABASE_URL, or exit saying to run `alumni init`."""
    try:
        require_current(get_settings().database_url)
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    return get_engine()
