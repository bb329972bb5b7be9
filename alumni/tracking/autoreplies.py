"""Auto-replies: out-of-office and other answers a program wrote, which are recorded but never
taken for a person's answer (nor for a bounce).

A message is an auto-reply when its headers say so (RFC 3834 ``Auto-Submitted`` other than
``no``; ``X-Autoreply``, ``X-Autorespond`` and kin; ``Precedence: auto_reply``), when it comes as
bulk or junk with out-of-office wording, or when its subject or first lines are an
out-of-office notice in English, Spanish, French, Portuguese, German, Italian or Dutch.
"""

from __future__ import annotations

import re
from email.message import Message

from alumni.tracking.reading import header

__all__ = ["auto_reply_reason"]

_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Mail-Autoreply")
_SUBJECT_RE = re.compile(
    r"out of (?:the )?office|\bauto(?:matic)?[- ]?(?:reply|response|answer)|\bautoreply"
    r"|\bvacation (?:reply|message|notice)|\bon vacation\b|\baway from (?:the )?office"
    r"|respuesta autom[áa]tica|fuera de (?:la )?oficina|ausente de la oficina|\bde vacaciones\b"
    r"|r[ée]ponse automatique|absent(?:e)? du bureau|message d'absence"
    r"|resposta autom[áa]tica|fora do escrit[óo]rio|aus[êe]ncia tempor[áa]ria|\bde f[ée]rias\b"
    r"|abwesenheit|automatische antwort|\bnicht im b[üu]ro\b|\babwesend\b|\bim urlaub\b"
    r"|risposta automatica|fuori (?:sede|ufficio)|automatisch antwoord|afwezig",
    re.IGNORECASE,
)
_BODY_RE = re.compile(
    r"\bI(?:'m| am| will be|'ll be) (?:currently |now )?(?:out of (?:the )?office|away from "
    r"(?:the |my )?(?:office|desk|e-?mail)"
    r"|on (?:annual |parental |sick )?(?:leave|vacation|holiday)"
    r"|out of the country|travell?ing with limited)"
    r"|limited (?:access to|availability on) e-?mail|will (?:respond|reply|get back to you) "
    r"(?:to your (?:e-?mail|message) )?(?:up)?on my return"
    r"|\bestoy (?:fuera de la oficina|de vacaciones|ausente)"
    r"|\bestar[ée] (?:fuera|ausente|de vacaciones)"
    r"|\bje suis (?:actuellement )?(?:absente?|en cong[ée]s?|en vacances)|\bje serai absente?"
    r"|\bestou (?:fora do escrit[óo]rio|de f[ée]rias|ausente)"
    r"|\bestarei (?:ausente|fora|de f[ée]rias)"
    r"|\bich bin (?:bis|vom|ab|derzeit|zurzeit|momentan|leider)\b.{0,60}"
    r"(?:nicht im b[üu]ro|abwesend|im urlaub|au[ßs]er haus)"
    r"|\bbin ich (?:nicht im b[üu]ro|abwesend|im urlaub)",
    re.IGNORECASE | re.DOTALL,
)
_BODY_CHARS = 1500  # an out-of-office notice says so at the top; quoted history comes later


def auto_reply_reason(message: Message, *, body: str) -> str | None:
    """Why the message is an auto-reply (a header, its subject or its wording), or None.

    Args:
        message: the message (only its own headers are read, not a returned copy's).
        body: its text (``alumni.tracking.reading.body_text``).
    """
    submitted = (header(message, "Auto-Submitted") or "").lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted.split(';')[0]}"
    for name in _HEADERS:
        if header(message, name) is not None:
            return f"{name} header"
    precedence = (header(message, "Precedence") or "").lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    subject = header(message, "Subject") or ""
    wording = _BODY_RE.search(body[:_BODY_CHARS])
    if precedence in ("bulk", "junk", "list") and (wording or _SUBJECT_RE.search(subject)):
        return f"Precedence: {precedence} with out-of-office wording"
    if _SUBJECT_RE.search(subject):
        return "out-of-office subject"
    if wording:
        return "out-of-office wording"
    return None
