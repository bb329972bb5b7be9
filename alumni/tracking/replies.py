"""Human replies: which of our messages a reply answers, and what the person newly wrote.

The new text is what ``mail-parser-reply`` keeps of the latest reply, with the quoted history
("On ... wrote:", Outlook's "From: ... Sent: ..." block, "-----Original Message-----") and the
signature stripped; lines still quoted with ``>`` are history too. HTML-only mail is turned into
text first.
"""

from __future__ import annotations

import re
from email.message import Message

from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

from alumni.tracking.reading import header, message_ids

__all__ = ["TEXT_LIMIT", "new_text", "referenced_ids"]

TEXT_LIMIT = 5000  # Response.text
# The parser's languages for "On ... wrote:" lines and signatures (it has no Portuguese).
_LANGUAGES = ["en", "de", "es", "fr", "it", "nl"]
_PARSER = EmailReplyParser(languages=_LANGUAGES)


def referenced_ids(message: Message) -> list[str]:
    """The Message-IDs a message answers: In-Reply-To first, then References newest first."""
    found = message_ids(header(message, "In-Reply-To"))
    found += reversed(message_ids(header(message, "References")))
    return list(dict.fromkeys(found))


def new_text(body: str) -> str:
    """What the person wrote in this reply, without quoted history or signature.

    Args:
        body: the reply's text (``alumni.tracking.reading.body_text``).
    """
    parsed = _PARSER.read(body.replace("\r\n", "\n"))
    latest = parsed.replies[0].body if parsed.replies else body
    lines = [line for line in str(latest).splitlines() if not line.lstrip().startswith(">")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text[:TEXT_LIMIT]
