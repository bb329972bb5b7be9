"""Record what one message from the office's mailbox is, and do what it calls for.

``track_message`` classifies the message (``alumni.tracking.classify``), ties it to the delivery
or alum it answers (``alumni.tracking.matching``), writes one ``Response`` (source ``email``,
remote id the message's digest) and applies its effects:

    bounce_hard   contact point ``invalid``, address suppressed (``hard_bounce``)
    bounce_soft   contact point ``bouncing``; the third within 30 days counts as hard
    complaint     news and events suppressed for the address (``complaint``)
    unsubscribe   news and events suppressed (``alumni.people.suppression.unsubscribe``)
    rsvp          the answer handed to the RSVP logic (DTSTAMP clamped to the receipt)
    auto_reply    recorded only
    reply         recorded with its new text, for an officer to answer

A reply or a calendar answer is the alum's last two-way contact. It runs inside the caller's
write transaction (the inbound loop's claim row and this message's effects commit together),
never raises for bad mail, and is idempotent per message: run twice on the same bytes, the
second run finds the Response and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from alumni.delivery.planning import PlanOptions
from alumni.delivery.sending import UNSUBSCRIBE
from alumni.events.rsvp import PARTSTAT_ANSWERS, RsvpError, apply_reply_on, invitation_of
from alumni.messages.signing import BadToken, ExpiredToken, read_token
from alumni.models import Delivery, Response, table_of
from alumni.people.bounced import mark_hard_bounce, mark_soft_bounce
from alumni.people.suppression import UNSUBSCRIBE_SCOPES, suppress, unsubscribe
from alumni.people.two_way import note_two_way
from alumni.settings import Settings
from alumni.tracking.bounces import SOFT_BOUNCE_WINDOW, soft_bounces_make_hard
from alumni.tracking.classify import Classified, classify
from alumni.tracking.matching import (
    Matched,
    alumnus_by_address,
    by_message_id,
    by_return_token,
    delivery,
)
from alumni.tracking.replies import TEXT_LIMIT

__all__ = ["Tracked", "TrackingContext", "track_message"]

SOURCE = "email"
_R = table_of(Response)
_D = table_of(Delivery)


@dataclass(frozen=True)
class TrackingContext:
    """What classifying and recording need, built once per run (``from_settings``)."""

    key: bytes  # Settings.signing_key(): verifies return-path and unsubscribe tokens
    return_local: str  # Settings.return_path()
    return_domain: str
    office_address: str  # ALUMNI_FROM: where replies and mailto unsubscribes land
    plan_options: PlanOptions  # for RSVP notices (waitlist / place)

    def __repr__(self) -> str:
        # The key is a secret: never in a log or a traceback.
        return (
            f"TrackingContext(return_local={self.return_local!r}, "
            f"return_domain={self.return_domain!r}, office_address={self.office_address!r})"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackingContext:
        """The context of ``ALUMNI_*``: signing key, return path, From address, plan options.

        Raises:
            ValueError: ALUMNI_FROM or ALUMNI_BOUNCE_ADDRESS has no usable address, or the
                signing key is too short.
        """
        local, domain = settings.sender_address()
        return_local, return_domain = settings.return_path()
        return cls(
            key=settings.signing_key(),
            return_local=return_local,
            return_domain=return_domain,
            office_address=f"{local}@{domain}",
            plan_options=PlanOptions.from_settings(settings),
        )


@dataclass(frozen=True)
class Tracked:
    """What one message was and what came of it (the inbound loop copies it to its row)."""

    kind: str  # bounce / auto_reply / complaint / unsubscribe / calendar / reply / unknown
    outcome: str  # handled / unmatched / unparsed
    message_id: str | None
    sender: str | None
    subject: str | None
    delivery_id: int | None
    alumnus_id: int | None
    detail: str | None  # one line for officers: what was done or why not (no tokens)


def track_message(
    connection: Connection, raw: bytes, *, digest: str, context: TrackingContext, now: datetime
) -> Tracked:
    """Classify one raw message, record a Response for it and apply its effects.

    Args:
        connection: a connection inside the caller's write transaction; every write goes
            through it.
        raw: the message as read from the mailbox.
        digest: the SHA-256 of ``raw`` (``InboundMessage.digest``): the Response's remote id.
        context: ``TrackingContext.from_settings(settings)``.
        now: the time of receipt, aware.

    Raises:
        Only database or configuration errors; bad mail gives ``outcome="unparsed"``.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now {now.isoformat()} has no time zone: pass an aware datetime")
    found = classify(raw, return_local=context.return_local, return_domain=context.return_domain)
    if found.problem is not None:
        return _tracked(found, "unparsed", detail=found.problem)
    earlier = connection.execute(
        sa.select(_R.c.delivery_id, _R.c.alumnus_id, _R.c.detail).where(
            _R.c.source == SOURCE, _R.c.remote_id == digest
        )
    ).first()
    if earlier is not None:  # handled before: nothing more to do
        return _tracked(
            found,
            "handled",
            match=None,
            delivery_id=earlier.delivery_id,
            alumnus_id=earlier.alumnus_id,
            detail=earlier.detail,
        )
    step = _Step(connection, found, digest, context, now)
    return _HANDLERS[found.kind](step)


@dataclass(frozen=True)
class _Step:
    """One message being handled: what each handler needs."""

    connection: Connection
    found: Classified
    digest: str
    context: TrackingContext
    now: datetime

    def record(
        self,
        kind: str,
        match: Matched | None,
        alumnus_id: int | None,
        *,
        detail: str,
        text: str | None = None,
        needs_attention: bool = False,
    ) -> None:
        """Write the message's Response; one already there (same digest) wins."""
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        self.connection.execute(
            dialect.insert(_R)
            .values(
                kind=kind,
                source=SOURCE,
                remote_id=self.digest,
                delivery_id=match.delivery_id if match else None,
                campaign_id=match.campaign_id if match else None,
                alumnus_id=alumnus_id,
                author=(self.found.sender or "")[:320] or None,
                detail=detail[:1000],
                text=text[:TEXT_LIMIT] if text else None,
                needs_attention=needs_attention,
                at=self.now,
                created_at=self.now,
            )
            .on_conflict_do_nothing(index_elements=[_R.c.source, _R.c.remote_id])
        )

    def answered_at(self) -> datetime:
        """When the person answered: the Date header, never later than the receipt."""
        date = self.found.date
        return self.now if date is None or date > self.now else date


def _tracked(
    found: Classified,
    outcome: str,
    *,
    kind: str | None = None,
    match: Matched | None = None,
    delivery_id: int | None = None,
    alumnus_id: int | None = None,
    detail: str | None = None,
) -> Tracked:
    return Tracked(
        kind=kind or found.kind,
        outcome=outcome,
        message_id=found.message_id[:500] if found.message_id else None,
        sender=found.sender[:320] if found.sender else None,
        subject=_shown_subject(found),
        delivery_id=match.delivery_id if match else delivery_id,
        alumnus_id=match.alumnus_id if match else alumnus_id,
        detail=detail[:1000] if detail else None,
    )


def _shown_subject(found: Classified) -> str | None:
    """The subject as officers see it; an unsubscribe token is withheld (it is a key)."""
    if found.kind == "unsubscribe" and found.unsubscribe_token:
        return "unsubscribe (token withheld)"
    return found.subject[:500] if found.subject else None


def _verified_match(step: _Step, named: tuple[str, ...]) -> tuple[Matched | None, str | None]:
    """The delivery a report is about, matched only by what a stranger cannot forge: a
    return-path token, or a Message-ID of ours whose delivery went to an address the report
    names. The second value says why nothing matched."""
    found = step.found
    match = by_return_token(step.connection, found.return_tokens, step.context.key)
    if match is not None:
        return match, None
    match = by_message_id(step.connection, found.returned_ids)
    if match is None:
        return None, "no return-path token or Message-ID of ours in it"
    if not match.address or match.address.lower() not in named:
        return None, (
            f"it returns delivery {match.delivery_id}'s Message-ID but names another address; "
            "nothing changed"
        )
    return match, None


def _bounce(step: _Step) -> Tracked:
    report = step.found.bounce
    assert report is not None
    match, why = _verified_match(step, step.found.returned_to)
    if match is None or not match.address:
        failed = ", ".join(f.address for f in report.failures)
        return _tracked(step.found, "unmatched", detail=f"bounce for {failed}: {why}")
    failure = report.failure_for(match.address)
    said = " ".join(x for x in (failure.status, failure.diagnostic) if x) or "no reason given"
    hard = failure.hard
    if hard:
        what = "hard bounce: address suppressed, contact point invalid"
    else:
        mark_soft_bounce(step.connection, match.address)
        what = "soft bounce: contact point bouncing"
        if soft_bounces_make_hard([*_soft_bounces(step, match.address), step.now], now=step.now):
            hard = True
            what = "third soft bounce within 30 days, counted as hard: address suppressed"
    if hard:
        mark_hard_bounce(step.connection, match.address, signing_key=step.context.key)
    kind = "bounce_hard" if hard else "bounce_soft"
    detail = f"{what} ({said})"
    step.record(kind, match, match.alumnus_id, detail=detail)
    return _tracked(step.found, "handled", match=match, detail=detail)


def _soft_bounces(step: _Step, address: str) -> list[datetime]:
    """When this address soft-bounced (recorded Responses) within the window before now."""
    return list(
        step.connection.execute(
            sa.select(_R.c.at)
            .join(_D, _D.c.id == _R.c.delivery_id)
            .where(
                _R.c.kind == "bounce_soft",
                _D.c.address == address,
                _R.c.at >= step.now - SOFT_BOUNCE_WINDOW,
            )
        ).scalars()
    )


def _complaint(step: _Step) -> Tracked:
    complaint = step.found.complaint
    assert complaint is not None
    match, why = _verified_match(step, step.found.returned_to)
    if match is None or not match.address:
        return _tracked(
            step.found, "unmatched", detail=f"complaint ({complaint.feedback_type}): {why}"
        )
    for scope in UNSUBSCRIBE_SCOPES:
        suppress(
            step.connection,
            kind="email",
            value=match.address,
            reason="complaint",
            scope=scope,
            signing_key=step.context.key,
        )
    detail = f"complaint ({complaint.feedback_type}): news and events suppressed for the address"
    step.record("complaint", match, match.alumnus_id, detail=detail)
    return _tracked(step.found, "handled", match=match, detail=detail)


def _unsubscribe(step: _Step) -> Tracked:
    token = step.found.unsubscribe_token
    if not token:
        return _tracked(
            step.found,
            "unmatched",
            detail="unsubscribe mail without a token: nothing changed; check who sent it",
        )
    try:
        payload = read_token(step.context.key, UNSUBSCRIBE, token, now=step.now)
    except ExpiredToken as expired:  # honoured all the same, as the web page does
        payload = expired.payload
    except BadToken:
        return _tracked(
            step.found,
            "unmatched",
            detail="unsubscribe mail with a damaged or forged token: nothing changed",
        )
    match = (
        delivery(step.connection, int(payload), how="unsubscribe-token")
        if payload.isdigit()
        else None
    )
    if match is None or not match.address:
        return _tracked(
            step.found, "unmatched", detail="unsubscribe mail for a delivery that is gone"
        )
    added = unsubscribe(
        step.connection, kind="email", value=match.address, signing_key=step.context.key
    )
    detail = "unsubscribed from news and events" if added else "already unsubscribed"
    step.record("unsubscribe", match, match.alumnus_id, detail=detail)
    return _tracked(step.found, "handled", match=match, detail=detail)


def _calendar(step: _Step) -> Tracked:
    reply = step.found.calendar
    assert reply is not None
    sender = step.found.sender or "(no sender)"
    if sender != reply.attendee_email.lower():
        return _tracked(
            step.found,
            "unmatched",
            detail=f"REPLY for {reply.attendee_email} sent by {sender}: only the invited "
            "attendee may answer; nothing changed",
        )
    reply = replace(reply, dtstamp=min(reply.dtstamp, step.now))  # a future stamp cannot lock it
    try:
        invitation = invitation_of(step.connection, reply)
        outcome = apply_reply_on(
            step.connection, reply, now=step.now, options=step.context.plan_options
        )
    except RsvpError as exc:
        return _tracked(step.found, "unmatched", detail=str(exc))
    match = delivery(step.connection, invitation.delivery_id, how="invitation")
    if outcome.applied:
        detail = f"event {outcome.event_id}: {outcome.answer}"
        detail += " (on the waitlist)" if outcome.waitlisted else ""
    else:
        detail = f"event {outcome.event_id}: a later answer ({outcome.answer}) is kept"
    text = PARTSTAT_ANSWERS[reply.partstat]
    if reply.comment:
        text = f"{text}: {reply.comment}"
    step.record("rsvp", match, invitation.alumnus_id, detail=detail, text=text)
    note_two_way(step.connection, invitation.alumnus_id, at=step.answered_at(), channel="email")
    return _tracked(
        step.found,
        "handled",
        match=match,
        alumnus_id=invitation.alumnus_id,
        detail=detail,
    )


def _answer_match(step: _Step) -> tuple[Matched | None, int | None]:
    """The delivery an answer is tied to (token, then In-Reply-To/References), else only the
    alum whose current address sent it."""
    found = step.found
    match = by_return_token(step.connection, found.return_tokens, step.context.key)
    match = match or by_message_id(step.connection, found.references)
    if match is not None:
        return match, match.alumnus_id
    return None, alumnus_by_address(step.connection, found.sender)


def _auto_reply(step: _Step) -> Tracked:
    match, alumnus_id = _answer_match(step)
    if alumnus_id is None:
        return _tracked(
            step.found,
            "unmatched",
            detail=f"auto-reply ({step.found.auto_reason}) to no delivery of ours",
        )
    detail = f"auto-reply ({step.found.auto_reason})"
    step.record("auto_reply", match, alumnus_id, detail=detail)
    return _tracked(step.found, "handled", match=match, alumnus_id=alumnus_id, detail=detail)


def _reply(step: _Step) -> Tracked:
    match, alumnus_id = _answer_match(step)
    if alumnus_id is None:
        return _tracked(
            step.found,
            "unmatched",
            kind="unknown",
            detail="answers none of our messages and comes from no alum's current address",
        )
    how = f"answers delivery {match.delivery_id}" if match else "from the alum's current address"
    step.record(
        "reply", match, alumnus_id, detail=how, text=step.found.text or None, needs_attention=True
    )
    note_two_way(step.connection, alumnus_id, at=step.answered_at(), channel="email")
    return _tracked(step.found, "handled", match=match, alumnus_id=alumnus_id, detail=how)


def _unknown(step: _Step) -> Tracked:
    return _tracked(step.found, "unmatched", detail="list or bulk mail: nothing to do")


_HANDLERS: dict[str, Callable[[_Step], Tracked]] = {
    "bounce": _bounce,
    "complaint": _complaint,
    "unsubscribe": _unsubscribe,
    "calendar": _calendar,
    "auto_reply": _auto_reply,
    "reply": _reply,
    "unknown": _unknown,
}
