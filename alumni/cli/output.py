"""What every `alumni` command shares: the consoles, the error exit, a ready database, and the
one way untrusted text (CSV cells, social replies, server answers) reaches the terminal.

Text from outside is printed through ``safe_text`` (inside Rich markup) or ``terminal_text``
(plain output): Rich markup in it is shown, not run, and control characters (ESC and the rest
of C0 and C1, DEL, and the bidirectional overrides that reorder a line) are shown as escapes
(``\\n``, ``\\x1b``, ``\\u202e``), so a value can neither colour, move, hide nor rewrite what
the officer reads. The consoles leave ``:emoji:`` codes as typed, and leave long lines whole
(soft wrap) so that a path or a value in a message can be copied.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from alumni.db import get_engine, require_current
from alumni.settings import KeyFileError, get_settings

out = Console(emoji=False, soft_wrap=True)
err = Console(stderr=True, emoji=False, soft_wrap=True)

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Every control character, for one-line values.
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
# The same but newline and tab, and CR only before a newline, for text of many lines.
_CONTROL_IN_LINES = re.compile(f"[\\x00-\\x08\\x0b-\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}]|\\r(?!\\n)")

# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on (only ever in strings).
_JSON_UNSAFE = re.compile(f"[\\x7f-\\x9f{_BIDI}]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(match: re.Match[str]) -> str:
    code = ord(match[0])
    if match[0] in _NAMED:
        return _NAMED[match[0]]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(value: object, *, lines: bool = False) -> str:
    """Return ``value`` as text a terminal only displays: control characters become escapes.

    Args:
        value: anything from outside; ``str()`` is taken.
        lines: keep newlines and tabs (a message body, a multi-line error); otherwise they
            are escaped too, so one value stays on one line.
    """
    pattern = _CONTROL_IN_LINES if lines else _CONTROL
    return pattern.sub(_shown, str(value))


def safe_text(value: object, *, lines: bool = False) -> str:
    """Return ``value`` for an f-string that ``out.print`` reads as markup: shown as is."""
    return escape(terminal_text(value, lines=lines))


def terminal_json(text: str) -> str:
    """Return JSON text (``ensure_ascii=False``) with DEL, C1 and bidirectional controls as
    ``\\uNNNN`` escapes: the same JSON, safe to show (``json`` escapes C0 itself)."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (plain text, never markup) as an error; return the exit to raise."""
    err.print(Text.assemble(("error:", "bold red"), " ", terminal_text(message, lines=True)))
    return typer.Exit(code)


def ready_engine() -> sa.Engine:
    """The engine of ALUMNI_DATABASE_URL, or exit saying to run `alumni init` (or how to fix
    the signing-key file: it keys links and the suppression hashes, so no command runs without)."""
    settings = get_settings()
    try:
        require_current(settings.database_url)
        settings.signing_key()
    except (RuntimeError, KeyFileError) as exc:
        raise fail(str(exc)) from None
    return get_engine()
