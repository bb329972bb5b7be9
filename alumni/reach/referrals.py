"""Sign-ups through a share link: pending until the address is confirmed, then an alum of the
class, credited to whoever shared the link; and the report of each class's referrals.

1. ``sign_up`` checks the join form with the import's own row checks
   (``alumni.people.validation.check_row``) and keeps a ``Signup``: pending, tied to the share
   link (so to its sharer), and queued for one email, the confirmation link. Nothing else is
   ever sent to them before they confirm: they are not an alum yet, so no campaign can plan
   them. The same address signing up again (through any link) while a sign-up is pending gets
   no second row and no second email; an address suppressed for everything, or an erased
   alum's, is sent nothing.
2. ``send_confirmations`` sends the queued confirmation emails on the ledger (``CONFIRMATIONS``:
   the ``Signup`` rows are the channel's rows), claimed under its lease and recorded once, so
   a crash or two senders at once send each once. Without SMTP they go to the outbox's Maildir
   folder ``.signups``. Templates: ``templates/email/join_confirm/``.
3. ``confirm`` (the confirmation link's page) makes them an alum of the class through the
   import itself (``alumni.people.importing.import_rows``: the same checks, the erasure list,
   the suppression warnings, the contact history; external id ``join-<sign-up id>``, the address
   verified now, consent as they ticked it); an address that is already a current alum's ties
   the sign-up to that alum instead. Confirming again changes nothing.
4. ``purge_unconfirmed`` deletes a sign-up nobody confirmed once its link has expired (a day of
   grace after ``CONFIRM_LIFETIME``): the person never became an alum, so nothing of them is
   kept. The same address may sign up again; the referral report counts what is left.

Errors::

    SignupError(ValueError)   ``problems``: the form's field -> what is wrong; nothing saved
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery import ledger
from alumni.delivery.batches import lease_of
from alumni.messages.mime import make_message_id
from alumni.messages.rendering import TemplateStore
from alumni.messages.signing import make_token, read_token
from alumni.models import (
    Alumnus,
    ContactPoint,
    DeliveryStatus,
    ShareLink,
    Signup,
    table_of,
    utcnow,
)
from alumni.people.erasure_list import erased_among
from alumni.people.importing import import_rows
from alumni.people.suppression import suppressed_scopes
from alumni.people.validation import check_row, normalise_email
from alumni.requests.officer_mail import officer_email
from alumni.settings import Settings
from connectors.mail import MailTransport, OutgoingMail, Receipt, open_mail_transport
from connectors.smtp import SmtpConnectError

__all__ = [
    "CONFIRMATIONS",
    "CONFIRM_LIFETIME",
    "ClassReferrals",
    "SharerReferrals",
    "SignupError",
    "confirm",
    "confirm_link",
    "purge_unconfirmed",
    "read_confirm_token",
    "referral_report",
    "send_confirmations",
    "sign_up",
    "signup_of",
]

CONFIRMATIONS = ledger.Channel(
    "sign-up confirmations", table_of(Signup), "sent_at", by_campaign=False
)
CONFIRM: Final = "join-confirm"
# A week to open the email; an unconfirmed sign-up never becomes an alum.
CONFIRM_LIFETIME: Final = timedelta(days=7)
# An unconfirmed sign-up (a name, an address) is kept only while its link can still be used.
UNCONFIRMED_KEPT: Final = CONFIRM_LIFETIME + timedelta(days=1)
CONFIRM_TEMPLATE: Final = "join_confirm"
OUTBOX_FOLDER: Final = ".signups"
BATCH: Final = 100
_A = table_of(Alumnus)
_CP = table_of(ContactPoint)
_S = table_of(ShareLink)
_SU = table_of(Signup)
# The import's columns each join-form field is checked as.
_FIELD_OF = {"first_name": "first_name", "last_name": "first_name", "class_year": "class_year"}


class SignupError(ValueError):
    """The join form is wrong; ``problems`` maps each field to what is wrong (English; the page
    says it in the reader's language). Nothing was saved."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {text}" for field, text in problems.items()))
        self.problems = problems


def confirm_link(key: bytes, base_url: str, signup_id: int, *, now: datetime) -> str:
    """The link of a sign-up's confirmation email, working for ``CONFIRM_LIFETIME``."""
    token = make_token(key, CONFIRM, str(signup_id), expires_at=now + CONFIRM_LIFETIME)
    return f"{base_url.rstrip('/')}/join/confirm/{token}"


def read_confirm_token(key: bytes, token: str, *, now: datetime) -> int:
    """The sign-up id a confirmation token carries.

    Raises:
        BadToken: damaged, for another purpose, or expired.
    """
    payload = read_token(key, CONFIRM, token, now=now)
    if not payload.isdigit():
        raise ValueError(payload)
    return int(payload)


def sign_up(
    connection: Connection,
    *,
    share_link: int,
    first_name: str,
    last_name: str,
    class_year: str,
    email: str,
    consent: bool,
    locale: str | None,
    now: datetime,
    message_id_domain: str,
    key: bytes,
) -> int:
    """Keep a pending sign-up through the ``ShareLink`` ``share_link`` and queue its one
    confirmation email; return its id (the pending one of the same address and link, if any).

    Raises:
        SignupError: a field the import's checks refuse (``first_name``, ``class_year``,
            ``email``), or a share link that no longer exists (``link``).
    """
    if connection.execute(sa.select(_S.c.id).where(_S.c.id == share_link)).first() is None:
        raise SignupError({"link": "this share link no longer exists"})
    checked = check_row(
        2,
        {
            "external_id": "join",
            "first_name": first_name,
            "last_name": last_name,
            "class_year": class_year,
            "email": email,
        },
        today=now.date(),
    )
    if isinstance(checked, list):
        problems: dict[str, str] = {}
        for problem in checked:
            problems.setdefault(problem.column or "first_name", problem.message)
        raise SignupError(problems)
    if not email.strip():
        raise SignupError({"email": "is required; give the address to confirm"})
    address = normalise_email(email)
    # One confirmation email an address a week, whichever link: the form cannot flood anyone.
    pending = connection.execute(
        sa.select(_SU.c.id)
        .where(
            sa.func.lower(_SU.c.email) == address.lower(),
            _SU.c.confirmed_at.is_(None),
            _SU.c.created_at >= now - CONFIRM_LIFETIME,
        )
        .order_by(_SU.c.id)
        .limit(1)
    ).scalar()
    if pending is not None:
        return int(pending)
    # An address suppressed for everything (or an erased alum's) is sent nothing at all; the
    # page says the same as for any other, so it tells nobody which addresses those are.
    barred = bool(erased_among(connection, [("email", address)], signing_key=key)) or (
        "all"
        in suppressed_scopes(connection, [("email", address)], signing_key=key).get(
            ("email", address), set()
        )
    )
    signup_id = int(
        connection.execute(
            sa.insert(_SU)
            .values(
                share_link_id=share_link,
                class_year=checked.class_year,
                first_name=checked.first_name,
                last_name=checked.last_name,
                email=address,
                locale=locale,
                consent_news=consent,
                created_at=now,
                status=DeliveryStatus.skipped if barred else DeliveryStatus.pending,
                due_at=None if barred else now,
                error="suppressed: nothing sent" if barred else None,
                attempts=0,
                maybe_duplicate=False,
            )
            .returning(_SU.c.id)
        ).scalar_one()
    )
    connection.execute(
        sa.update(_SU)
        .where(_SU.c.id == signup_id)
        .values(message_id=make_message_id(f"signup.{signup_id}", message_id_domain, key=key))
    )
    return signup_id


def signup_of(connection: Connection, signup_id: int) -> Any | None:
    """The ``Signup`` row, or None."""
    return connection.execute(sa.select(_SU).where(_SU.c.id == signup_id)).first()


def confirm(engine: Engine, signup_id: int, *, settings: Settings, now: datetime) -> int:
    """Make the sign-up's person an alum of their class (see the module docstring); return the
    alumnus id. Safe to run again.

    Raises:
        LookupError: no such sign-up.
        SignupError: the import refused the row (e.g. an address erased at its owner's request).
    """
    with engine.connect() as connection:
        signup = signup_of(connection, signup_id)
        if signup is None:
            raise LookupError(f"no sign-up {signup_id}")
        if signup.alumnus_id is not None:
            return int(signup.alumnus_id)
        existing = connection.execute(
            sa.select(_CP.c.alumnus_id)
            .where(
                _CP.c.kind == "email",
                sa.func.lower(_CP.c.value) == signup.email.lower(),
                _CP.c.superseded_at.is_(None),
            )
            .order_by(_CP.c.id)
            .limit(1)
        ).scalar()
    if existing is None:
        existing = _import(engine, signup, settings=settings, now=now)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_SU)
            .where(_SU.c.id == signup_id, _SU.c.alumnus_id.is_(None))
            .values(alumnus_id=existing, confirmed_at=now)
        )
    return int(existing)


def purge_unconfirmed(engine: Engine, *, now: datetime) -> int:
    """Delete each sign-up never confirmed whose confirmation was sent (or, never sent, made)
    more than ``UNCONFIRMED_KEPT`` before ``now``, unless a sender holds it; return how many."""
    with write_transaction(engine) as connection:
        deleted = connection.execute(
            sa.delete(_SU).where(
                _SU.c.alumnus_id.is_(None),
                _SU.c.status != DeliveryStatus.claimed.value,
                sa.func.coalesce(_SU.c.sent_at, _SU.c.created_at) < now - UNCONFIRMED_KEPT,
            )
        )
    return int(deleted.rowcount)


def _import(engine: Engine, signup: Any, *, settings: Settings, now: datetime) -> int:
    external_id = f"join-{signup.id}"
    agreed = "yes" if signup.consent_news else "no"
    values = {
        "external_id": external_id,
        "first_name": signup.first_name,
        "last_name": signup.last_name,
        "class_year": str(signup.class_year),
        "email": signup.email,
        "email_verified_at": now.date().isoformat(),
        "email_source": "join page",
        "locale": signup.locale or "",
        "consent_news": agreed,
        "consent_events": agreed,
        "consent_evidence": f"join page sign-up {signup.id}, address confirmed {now:%Y-%m-%d}",
    }
    result = import_rows(
        engine,
        [(2, values)],
        header=list(values),
        filename=f"join page sign-up {signup.id}",
        sha256=hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest(),
        today=now.date(),
        signing_key=settings.signing_key(),
    )
    if not result.committed or result.problem_count:
        raise SignupError(
            {p.column or "email": p.message for p in result.problems}
            or {"email": "the import refused this sign-up"}
        )
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(_A.c.id).where(_A.c.external_id == external_id)
            ).scalar_one()
        )


@dataclass(frozen=True)
class _Queued:
    id: int
    email: str
    first_name: str
    class_year: int
    locale: str | None
    message_id: str
    created_at: datetime


def _read(connection: Connection, ids: list[int]) -> list[_Queued]:
    return [
        _Queued(r.id, r.email, r.first_name, r.class_year, r.locale, r.message_id, r.created_at)
        for r in connection.execute(sa.select(_SU).where(_SU.c.id.in_(ids)).order_by(_SU.c.id))
    ]


def send_confirmations(
    engine: Engine,
    *,
    settings: Settings,
    worker: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Counter[str]:
    """Send every confirmation email due now, a batch at a time under the ledger's lease;
    return the counts of outcomes (``sent``, ``transient``, ``permanent``).

    Raises:
        SmtpConnectError: the SMTP server could not be reached: unsent rows go back pending.
    """
    worker = worker or f"signups-{uuid.uuid4().hex[:12]}"
    lease = lease_of(settings)
    delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
    store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
    counts: Counter[str] = Counter()
    transport: MailTransport | None = None
    try:
        while True:
            now = clock()
            claimed = ledger.claim_rows(
                engine,
                CONFIRMATIONS,
                None,
                worker=worker,
                limit=BATCH,
                now=now,
                lease=lease,
                read=_read,
            )
            if not claimed:
                return counts
            with ledger.Heartbeat(engine, CONFIRMATIONS, None, worker=worker, lease=lease):
                if transport is None:
                    url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
                    transport = open_mail_transport(
                        url, outbox_dir=settings.outbox_dir / OUTBOX_FOLDER, connections=1
                    )
                results = _send_batch(
                    engine, claimed, store, transport, settings=settings, worker=worker, now=now
                )
                ledger.record(
                    engine, CONFIRMATIONS, results, now=clock(), worker=worker, retry_delays=delays
                )
            counts.update(r.outcome for r in results)
    finally:
        if transport is not None:
            transport.close()


def _send_batch(
    engine: Engine,
    claimed: Sequence[_Queued],
    store: TemplateStore,
    transport: MailTransport,
    *,
    settings: Settings,
    worker: str,
    now: datetime,
) -> list[ledger.Result]:
    results: list[ledger.Result] = []
    held = ledger.mark_handed(
        engine, CONFIRMATIONS, [q.id for q in claimed], worker=worker, now=now
    )
    mails: list[OutgoingMail] = []
    local, domain = settings.return_path()
    sender_local, sender_domain = settings.sender_address()
    key = settings.signing_key()
    for queued in (q for q in claimed if q.id in held):
        context = {
            "signup": {"first_name": queued.first_name, "class_year": queued.class_year},
            "office": {
                "name": settings.office_name,
                "email": f"{sender_local}@{sender_domain}",
                "postal_address": settings.postal_address,
            },
            "links": {
                "confirm": confirm_link(key, settings.base_url, queued.id, now=queued.created_at)
            },
        }
        try:
            rendered = store.render_email(CONFIRM_TEMPLATE, queued.locale, context)
            data = officer_email(
                sender=settings.sender,
                to=queued.email,
                subject=rendered.subject,
                body=rendered.text,
                message_id=queued.message_id,
                date=now,
            )
        except ValueError as exc:
            results.append(ledger.Result(queued.id, "permanent", reply=str(exc)))
            continue
        mails.append(
            OutgoingMail(
                key=queued.id,
                envelope_from=f"{local}@{domain}",
                recipient=queued.email,
                data=data,
            )
        )
    answered: list[ledger.Result] = []

    def on_receipt(receipt: Receipt) -> None:  # from the transport's threads
        answered.append(ledger.Result(receipt.key, receipt.outcome.value, reply=receipt.reply))

    try:
        transport.send(mails, on_receipt)
    except SmtpConnectError:
        done = {r.row_id for r in answered}
        ledger.record(engine, CONFIRMATIONS, [*results, *answered], now=now, worker=worker)
        ledger.release(
            engine, CONFIRMATIONS, [m.key for m in mails if m.key not in done], worker=worker
        )
        raise
    return [*results, *answered]


@dataclass(frozen=True)
class SharerReferrals:
    """What one sharer's link brought."""

    external_id: str | None  # None: the sharer was erased
    name: str
    signed_up: int
    confirmed: int


@dataclass(frozen=True)
class ClassReferrals:
    """A class's referrals: links shared, sign-ups, confirmed, and per sharer."""

    class_year: int
    shared: int  # share links made for the class
    signed_up: int
    confirmed: int
    sharers: tuple[SharerReferrals, ...]


def referral_report(connection: Connection, class_year: int | None = None) -> list[ClassReferrals]:
    """Each class's referrals (of one class when given), by class year; each class's sharers
    by most confirmed."""
    links = sa.select(_S.c.id, _S.c.class_year, _S.c.alumnus_id)
    if class_year is not None:
        links = links.where(_S.c.class_year == class_year)
    by_link = {r.id: r for r in connection.execute(links)}
    people = {
        r.id: r
        for r in connection.execute(
            sa.select(
                _A.c.id, _A.c.external_id, _A.c.first_name, _A.c.last_name, _A.c.status
            ).where(_A.c.id.in_({r.alumnus_id for r in by_link.values()}))
        )
    }
    counted: dict[int, Counter[str]] = {link: Counter() for link in by_link}
    for row in connection.execute(
        sa.select(_SU.c.share_link_id, _SU.c.confirmed_at).where(
            _SU.c.share_link_id.in_(list(by_link))
        )
    ):
        counted[row.share_link_id]["signed_up"] += 1
        if row.confirmed_at is not None:
            counted[row.share_link_id]["confirmed"] += 1
    classes: dict[int, list[tuple[int, Counter[str]]]] = {}
    for link_id, link in by_link.items():
        classes.setdefault(link.class_year, []).append((link.alumnus_id, counted[link_id]))
    report = []
    for year in sorted(classes):
        sharers = []
        for alumnus_id, counts in classes[year]:
            person = people.get(alumnus_id)
            if person is None or person.status == "erased":
                shown: tuple[str | None, str] = (None, "(erased)")
            else:
                shown = (person.external_id, f"{person.first_name} {person.last_name}".strip())
            sharers.append(SharerReferrals(*shown, counts["signed_up"], counts["confirmed"]))
        sharers.sort(key=lambda s: (-s.confirmed, -s.signed_up, s.name))
        report.append(
            ClassReferrals(
                class_year=year,
                shared=len(sharers),
                signed_up=sum(s.signed_up for s in sharers),
                confirmed=sum(s.confirmed for s in sharers),
                sharers=tuple(sharers),
            )
        )
    return report
