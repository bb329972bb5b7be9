"""The database tables (SQLModel). Tables are created by Alembic migrations, never by
``create_all``; ``tests/test_migrations.py`` checks that the migrations match these classes.

Every datetime is stored timezone-aware in UTC (``UTCDateTime``), also on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A datetime column that only accepts aware values and always returns UTC-aware ones."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: store UTC-aware times")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store naive UTC there, aware everywhere else.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kwargs)


class AlumnusStatus(StrEnum):
    active = "active"
    lost = "lost"  # no working contact known; the lost-alumni drive looks for them
    do_not_contact = "do_not_contact"
    deceased = "deceased"
    erased = "erased"  # personal data removed on request (GDPR art. 17)


class ContactKind(StrEnum):
    email = "email"
    phone = "phone"
    mastodon = "mastodon"
    bluesky = "bluesky"


class ContactStatus(StrEnum):
    ok = "ok"
    bouncing = "bouncing"
    invalid = "invalid"
    suspect = "suspect"


class Purpose(StrEnum):
    news = "news"
    events = "events"
    service = "service"


# One former student: who they are and where in the world they live.
class Alumnus(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True)
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    class_year: int = Field(index=True)
    programme: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2
    city: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)  # IANA name
    locale: str | None = Field(default=None, max_length=35)  # BCP 47 tag
    status: AlumnusStatus = Field(default=AlumnusStatus.active, sa_type=sa.String(20))
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    last_import_id: int | None = Field(default=None, foreign_key="importrun.id", index=True)
    # The last time the alum answered us (a reply, a click, an RSVP, a form, a confirmed
    # detail) and on which channel; the reach reports read it. Auto-replies and bounces do not.
    last_two_way_at: datetime | None = _when(nullable=True, default=None)
    last_two_way_channel: str | None = Field(default=None, max_length=16)  # email / web / ...


# One way to reach an alum, with where it came from and when someone last saw it work.
# A replaced value is kept as history: superseded_at is set instead of deleting it.
class ContactPoint(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_contactpoint_kind_value", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    kind: ContactKind = Field(sa_type=sa.String(16))
    value: str = Field(max_length=320)
    label: str | None = Field(default=None, max_length=32)  # phone: mobile / landline / ...
    source: str = Field(max_length=200)
    verified_at: datetime | None = _when(nullable=True, default=None)
    status: ContactStatus = Field(default=ContactStatus.ok, sa_type=sa.String(16))
    created_at: datetime = _when(default_factory=utcnow)
    superseded_at: datetime | None = _when(nullable=True, default=None)
    import_run_id: int | None = Field(default=None, foreign_key="importrun.id")
    superseded_by_import_id: int | None = Field(default=None, foreign_key="importrun.id")


# What an alum agreed to (or refused) for a purpose, with the evidence. Latest row wins.
class Consent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    purpose: Purpose = Field(sa_type=sa.String(16))
    channel: str = Field(default="any", max_length=16)  # any / email / social / phone
    granted: bool
    evidence: str = Field(max_length=500)
    at: datetime = _when(default_factory=utcnow)
    import_run_id: int | None = Field(default=None, foreign_key="importrun.id")


# An alum who speaks for a class year: plans events and sends ideas.
class Ambassador(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("alumnus_id", "class_year"),)

    id: int | None = Field(default=None, primary_key=True)
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    class_year: int = Field(index=True)
    since: datetime = _when(default_factory=utcnow)


# An address that must not be contacted, kept only as a keyed hash of its normalised form
# (HMAC under a key derived from the signing key: alumni/people/keyed_hash.py).
class Suppression(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("value_hash", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ContactKind = Field(sa_type=sa.String(16))
    value_hash: str = Field(max_length=64, index=True)
    scope: str = Field(default="all", max_length=16)  # all / news / events
    reason: str = Field(max_length=32)  # erased / unsubscribed / hard_bounce / complaint
    created_at: datetime = _when(default_factory=utcnow)
    keyed: bool = True  # False: an old salted SHA-256, still honoured (people/suppression.py)


# One run of `alumni import`: what file, what came of it.
class ImportRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    started_at: datetime = _when(default_factory=utcnow)
    finished_at: datetime | None = _when(nullable=True, default=None)
    rows_total: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0


# Who was erased (GDPR art. 17): the keyed hash of each external id and address an erased alum
# had, so that an old spreadsheet or a social reply cannot bring them back. Nothing readable.
class ErasedIdentifier(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # external_id / email / phone / mastodon / bluesky
    value_hash: str = Field(max_length=64, unique=True)  # HMAC: alumni/people/keyed_hash.py
    erased_at: datetime = _when()


# Values this installation made for itself once: the check value of the identifier-hash key,
# and the salt of old suppression hashes while any remain.
class InstanceValue(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)


class CampaignStatus(StrEnum):
    draft = "draft"  # created; nobody chosen yet
    planned = "planned"  # one delivery row per alum of the class, each sent or skipped
    sending = "sending"
    done = "done"
    stopped = "stopped"  # preflight failed or an officer stopped it; nothing more goes out


class DeliveryStatus(StrEnum):
    pending = "pending"  # to send at due_at
    claimed = "claimed"  # a worker holds it (its lease renewed while it lives); not yet answered
    sent = "sent"
    failed = "failed"  # refused for good (5xx) or out of attempts
    skipped = "skipped"  # never to be sent; skip_reason says why


# One campaign aimed at one class year: what goes out, to whom, when.
class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    class_year: int = Field(index=True)
    programme: str | None = Field(default=None, max_length=200)
    channel: str = Field(default="email", max_length=16)
    template: str = Field(max_length=100)
    purpose: Purpose = Field(default=Purpose.news, sa_type=sa.String(16))
    send_at: str | None = Field(default=None, max_length=5)  # HH:MM in each alum's own zone
    not_before: datetime | None = _when(nullable=True, default=None)
    status: CampaignStatus = Field(default=CampaignStatus.draft, sa_type=sa.String(16))
    created_at: datetime = _when(default_factory=utcnow)
    planned_at: datetime | None = _when(nullable=True, default=None)
    finished_at: datetime | None = _when(nullable=True, default=None)
    note: str | None = Field(default=None, max_length=2000)  # why it stopped, if it did
    link: str | None = Field(default=None, max_length=1000)  # social: where the tracked link goes
    locales: str | None = Field(default=None, max_length=200)  # social: one post per locale
    networks: str | None = Field(default=None, max_length=100)  # social: None means all set up
    window_hours: int | None = None  # social: posts must go out within this many hours...
    window_ends_at: datetime | None = _when(nullable=True, default=None)  # ...of the plan
    # Reach (alumni/reach): who among the class, and in which order when a cap limits it.
    audience_where: dict[str, list[str]] | None = Field(default=None, sa_type=sa.JSON)
    audience_reason: str | None = Field(default=None, max_length=2000)  # a sensitive filter's why
    max_recipients: int | None = None  # a cap: the longest-unreached first (reach/priority.py)
    named_audience: bool = False  # its maker names who gets it (plan ``only=``), not the class
    series_key: str | None = Field(default=None, max_length=100, unique=True)  # once per key
    # the last preflight that passed, the highest delivery id it rendered and the templates it
    # rendered with (a digest): a run that joins the campaign preflights only rows planned
    # after it, unless the templates changed since
    preflighted_at: datetime | None = _when(nullable=True, default=None)
    preflighted_through: int | None = None
    preflight_templates: str | None = Field(default=None, max_length=64)


# The record of one message to one alum on one channel: exactly one row per
# (campaign, alum, channel), whatever happens. The ledger claims, sends and marks these.
class Delivery(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "alumnus_id", "channel"),
        sa.Index("ix_delivery_campaign_status_due", "campaign_id", "status", "due_at"),
        sa.Index("ix_delivery_alumnus_sent", "alumnus_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    alumnus_id: int = Field(foreign_key="alumnus.id", ondelete="CASCADE")
    channel: str = Field(default="email", max_length=16)
    address: str | None = Field(default=None, max_length=320)
    locale: str | None = Field(default=None, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    counts_toward_budget: bool = True
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(16))
    skip_reason: str | None = Field(default=None, max_length=32)
    due_at: datetime | None = _when(nullable=True, default=None)
    message_id: str | None = Field(default=None, max_length=200, unique=True)
    attempts: int = 0
    maybe_duplicate: bool = False  # taken over after a crash while handed over: may go twice
    claimed_at: datetime | None = _when(nullable=True, default=None)  # renewed while held
    claimed_by: str | None = Field(default=None, max_length=64)
    handed_at: datetime | None = _when(nullable=True, default=None)  # given to the transport
    sent_at: datetime | None = _when(nullable=True, default=None)
    error: str | None = Field(default=None, max_length=1000)


def table_of(model: type[SQLModel]) -> sa.Table:
    """Return the Core table of a table model, for fast bulk statements."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


class EventStatus(StrEnum):
    proposed = "proposed"  # suggested by `alumni reunions plan`; an officer accepts it
    scheduled = "scheduled"
    cancelled = "cancelled"


# A class event: when (UTC + the event's IANA zone), where, and how many can come.
# ``uid`` never changes; ``sequence`` rises with every change invitees must hear about.
class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=255, unique=True)
    sequence: int = 0
    class_year: int = Field(index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    starts_at: datetime = _when()
    ends_at: datetime = _when()
    timezone: str = Field(max_length=64)  # IANA name of the event's zone
    country: str | None = Field(default=None, max_length=2)  # where it happens (ISO 3166)
    place: str | None = Field(default=None, max_length=500)
    online_url: str | None = Field(default=None, max_length=1000)
    capacity: int | None = None  # None: no limit
    status: EventStatus = Field(default=EventStatus.scheduled, sa_type=sa.String(16))
    over_budget_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


# One mailing about an event (invite, update-N, cancel, reminder-N, thanks, waitlist, place):
# a campaign of its own, so its deliveries get the ledger's exactly-once guarantees.
class EventMailing(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("event_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="campaign.id", unique=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # the template: invite / update / cancel / reminder / ...
    key: str = Field(max_length=32)  # kind plus what makes it unique: update-3, reminder-7
    created_at: datetime = _when(default_factory=utcnow)


# An alum's answer to an event; the latest answer (by ``answered_at``) wins.
class Rsvp(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("event_id", "alumnus_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    answer: str = Field(max_length=8)  # yes / no / maybe
    answered_at: datetime = _when()  # when the alum answered (click time or REPLY DTSTAMP)
    source: str = Field(max_length=16)  # link / itip / officer
    waitlisted_at: datetime | None = _when(nullable=True, default=None)  # set: on the waitlist
    attended: bool | None = None  # None: not recorded
    updated_at: datetime = _when(default_factory=utcnow)


# The social networks the office has accounts on (a class channel's network is "webhook").
NETWORKS = ("mastodon", "bluesky")


# One post of a social campaign on one account: the social channel's delivery. The text is
# rendered and checked when planned and posted as is on every attempt; ``idempotency_key`` and
# ``composed_at`` are fixed then too, so a retry after a lost answer leaves one post, not two.
class SocialPost(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "account", "locale"),
        sa.Index("ix_socialpost_campaign_status_due", "campaign_id", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    network: str = Field(max_length=16)  # mastodon / bluesky / webhook
    account: str = Field(max_length=100)  # mastodon / bluesky / webhook:<class channel id>
    locale: str = Field(max_length=35)
    text: str = Field(max_length=5000)
    idempotency_key: str = Field(max_length=64, unique=True)
    composed_at: datetime = _when()
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(16))
    due_at: datetime | None = _when(nullable=True, default=None)
    attempts: int = 0
    claimed_at: datetime | None = _when(nullable=True, default=None)  # renewed while held
    claimed_by: str | None = Field(default=None, max_length=64)
    handed_at: datetime | None = _when(nullable=True, default=None)  # given to the network
    maybe_duplicate: bool = False  # taken over after a crash while handed over (networks dedupe)
    remote_id: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=1000)
    posted_at: datetime | None = _when(nullable=True, default=None)
    error: str | None = Field(default=None, max_length=1000)
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    engagement_checked_at: datetime | None = _when(nullable=True, default=None)


# A class's own group chat (Slack, Discord, Teams or any JSON webhook) that social campaigns
# for that class year post to. The URL is a secret: shown masked, never logged.
class ClassChannel(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("class_year", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    class_year: int = Field(index=True)
    name: str = Field(max_length=100)
    style: str = Field(max_length=16)  # slack / discord / teams / generic
    url: str = Field(max_length=2000)
    created_at: datetime = _when(default_factory=utcnow)


# What came back: a reply, like or repost of a social post, a click on a tracked link, and
# what the office's mailbox received (bounces, auto-replies, complaints, unsubscribe mail,
# calendar answers, replies). Tied to an alum when we know who it was (their handle matches one
# they gave us, or the mail answers one of their deliveries).
class Response(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("source", "remote_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # reply / like / repost / click / bounce_hard / bounce_soft / auto_reply / complaint /
    # unsubscribe / rsvp
    kind: str = Field(max_length=16)
    source: str = Field(max_length=16)  # mastodon / bluesky / web / email
    remote_id: str = Field(max_length=600)  # unique per source: a reply's id, or kind:post:author
    delivery_id: int | None = Field(
        default=None, foreign_key="delivery.id", index=True, ondelete="SET NULL"
    )  # the email it answers (source email)
    detail: str | None = Field(default=None, max_length=1000)  # e.g. a bounce's status and text
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", index=True, ondelete="CASCADE"
    )
    social_post_id: int | None = Field(
        default=None, foreign_key="socialpost.id", index=True, ondelete="CASCADE"
    )
    alumnus_id: int | None = Field(
        default=None, foreign_key="alumnus.id", index=True, ondelete="CASCADE"
    )
    author: str | None = Field(default=None, max_length=320)
    text: str | None = Field(default=None, max_length=5000)
    url: str | None = Field(default=None, max_length=1000)
    at: datetime = _when()
    needs_attention: bool = False  # a reply that asks for something: an officer should answer
    handled_at: datetime | None = _when(nullable=True, default=None)
    created_at: datetime = _when(default_factory=utcnow)


# One message read from the office's mailbox. The row is the claim: the first run to insert it
# handles the message, so two runs at once handle each message once (``digest`` is unique too,
# so a message seen again under a new UIDVALIDITY is not handled twice).
class InboundMessage(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)  # SHA-256 of the raw message
    mailbox: str = Field(max_length=200)
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    uid: int = Field(sa_type=sa.BigInteger)
    message_id: str | None = Field(default=None, max_length=500)
    sender: str | None = Field(default=None, max_length=320)
    subject: str | None = Field(default=None, max_length=500)
    # bounce / auto_reply / complaint / unsubscribe / calendar / reply / unknown
    kind: str | None = Field(default=None, max_length=16)
    outcome: str = Field(
        default="claimed", max_length=16
    )  # claimed / handled / unmatched / unparsed
    detail: str | None = Field(default=None, max_length=1000)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id", ondelete="SET NULL")
    alumnus_id: int | None = Field(default=None, foreign_key="alumnus.id", ondelete="SET NULL")
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime = _when(default_factory=utcnow)
    processed_at: datetime | None = _when(nullable=True, default=None)
    moved_at: datetime | None = _when(nullable=True, default=None)  # to the done folder


# Where reading a mailbox stopped: its UIDVALIDITY and the highest UID handled. A new
# UIDVALIDITY means the server renumbered the mailbox: reading starts again from the first UID.
class MailboxCursor(SQLModel, table=True):
    mailbox: str = Field(primary_key=True, max_length=200)
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    last_uid: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime = _when(default_factory=utcnow)


class Frequency(StrEnum):
    every = "every"  # every message of the campaigns they are in
    digest = "digest"  # news gathered into one monthly digest
    own_requests = "own_requests"  # only about their own requests and answers (service)


# What an alum chose on their preference page; no row means every message on every channel.
class Preference(SQLModel, table=True):
    alumnus_id: int = Field(primary_key=True, foreign_key="alumnus.id", ondelete="CASCADE")
    channels: str = Field(default="email", max_length=100)  # comma list: email, mastodon, ...
    frequency: Frequency = Field(default=Frequency.every, sa_type=sa.String(16))
    paused_until: datetime | None = _when(nullable=True, default=None)  # nothing but service
    updated_at: datetime = _when(default_factory=utcnow)


class RequestStatus(StrEnum):
    open = "open"  # opened; nobody has answered the alum yet
    in_progress = "in_progress"  # the office answered and works on it
    waiting = "waiting"  # waiting on the alum: the SLA clock is paused
    closed = "closed"  # resolved, declined or withdrawn; ``outcome`` says which


# Something an alum asked of the office (a letter, a certificate, a referral, help, an idea),
# opened from a reply, the web form or by an officer. Its deadlines come from its type's rules
# (``requests.toml``) and the SLA clock; ``alumni.requests`` owns every change to it.
class Request(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=16)  # letter / certificate / referral / welfare / question / idea
    status: RequestStatus = Field(default=RequestStatus.open, sa_type=sa.String(16))
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    summary: str = Field(max_length=2000)  # welfare: never in a log, artifact, event or payload
    owner: str | None = Field(default=None, max_length=320)  # the officer's email
    source: str = Field(max_length=16)  # reply / web / officer
    response_id: int | None = Field(
        default=None, foreign_key="response.id", unique=True, ondelete="SET NULL"
    )  # the reply it was opened from
    opened_at: datetime = _when()  # when it really came (an officer may log it late)
    last_update_at: datetime = _when(default_factory=utcnow)  # the last word to the alum
    created_at: datetime = _when(default_factory=utcnow)
    deadline: datetime | None = _when(nullable=True, default=None)  # the alum's own deadline
    first_response_at: datetime | None = _when(nullable=True, default=None)
    closed_at: datetime | None = _when(nullable=True, default=None)
    outcome: str | None = Field(default=None, max_length=16)  # resolved / declined / withdrawn
    referee: str | None = Field(default=None, max_length=320)  # letter: who writes it
    asked_alumnus_id: int | None = Field(
        default=None, foreign_key="alumnus.id", ondelete="SET NULL"
    )  # referral: the alum asked for the introduction (who agreed to be asked)
    identity_checked_at: datetime | None = _when(nullable=True, default=None)  # certificate
    identity_checked_by: str | None = Field(default=None, max_length=320)
    decision: str | None = Field(default=None, max_length=16)  # idea: accepted/declined/planned
    decision_reason: str | None = Field(default=None, max_length=2000)
    escalation_level: int = 0  # the highest rung fired so far (0: none)


# A time the request waited on the alum: the SLA clock does not run between started and ended.
class RequestPause(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True, ondelete="CASCADE")
    started_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True, default=None)  # None: still waiting


# The audit trail: who did what to a request and when, in order. ``to_alum`` marks the words
# the alum was sent (a reply); the rest is internal. Never edited, never deleted but with it.
class RequestEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True, ondelete="CASCADE")
    at: datetime = _when()
    actor: str = Field(max_length=320)  # an officer's email, "alum", or "system"
    action: str = Field(max_length=32)  # opened / assigned / note / reply / wait / resume / ...
    detail: str | None = Field(default=None, max_length=4000)
    to_alum: bool = False


# One message to the alum about their request (acknowledgement, update, waiting, resumed, closed,
# decision): a service campaign of its own, so the ledger sends it exactly once. ``key`` is unique
# per request (``ack``, ``update-12``: the kind and the newest audit event it tells of);
# ``context`` is what the message says, fixed when it was queued (``alumni.requests.notices``).
class RequestNotice(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("request_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="campaign.id", unique=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # ack / update / waiting / resumed / closed / decision
    key: str = Field(max_length=32)
    event_id: int | None = Field(
        default=None, foreign_key="requestevent.id", ondelete="SET NULL"
    )  # the newest audit event when it was queued: the office's words after it are the next's
    context: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # welfare: no content
    created_at: datetime = _when(default_factory=utcnow)


class NoticeMedium(StrEnum):
    email = "email"  # to one officer's address
    webhook = "webhook"  # to the desk's chat (ALUMNI_DESK_WEBHOOK_URL)
    event = "event"  # a Prefect event, emitted by the flow, for automations to act on


# One notice to the office that the ledger sends once: a rung of a request's escalation ladder
# (an email to one officer, a message to the desk's chat, a Prefect event) or an owner's daily
# digest. Unique per what it is about: ``topic`` is ``request-<id>`` or ``digest`` (not the
# nullable request_id, as NULLs never conflict), so reruns, two runs at once and a catch-up
# plan each once. A rung belongs to one deadline instant: a deadline that moves gets new rows.
class OfficeNotice(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("topic", "deadline_kind", "deadline_at", "rung", "recipient"),
        sa.Index("ix_officenotice_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=32)  # request-<id> / digest
    request_id: int | None = Field(
        default=None, foreign_key="request.id", index=True, ondelete="CASCADE"
    )
    deadline_kind: str = Field(max_length=16)  # first_response / next_update / resolution / day
    deadline_at: datetime = _when()  # the deadline the rung belongs to; digest: the office day
    rung: str = Field(max_length=16)  # reminder / lead / director / repeat-<n> / digest
    level: int = 0  # 1 reminder, 2 lead, 3 director, 3+n repeat-<n>; 0 digest
    medium: NoticeMedium = Field(sa_type=sa.String(8))
    recipient: str = Field(max_length=320)  # an officer's address; the webhook; the event's name
    message_id: str | None = Field(default=None, max_length=200, unique=True)  # email only
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(16))
    due_at: datetime | None = _when(nullable=True, default=None)
    attempts: int = 0
    maybe_duplicate: bool = False  # taken over after a crash while handed over: may go twice
    claimed_at: datetime | None = _when(nullable=True, default=None)  # renewed while held
    claimed_by: str | None = Field(default=None, max_length=64)
    handed_at: datetime | None = _when(nullable=True, default=None)  # given to the transport
    sent_at: datetime | None = _when(nullable=True, default=None)
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _when(default_factory=utcnow)


# One time the still-yours flow asked an alum about one of their details (``alumni.reach.
# still_yours``): the message is a delivery of ``campaign_id``; a detail is asked about at most
# once per ALUMNI_STILL_YOURS_EVERY_MONTHS.
class DetailCheck(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "contact_point_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_point_id: int = Field(foreign_key="contactpoint.id", index=True, ondelete="CASCADE")
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    reasons: str = Field(max_length=2000)  # the rules' reasons, one per line
    asked_at: datetime = _when()


class TipStatus(StrEnum):
    pending = "pending"  # waits for an officer; nothing is used
    verified = "verified"  # an officer checked it: the detail was added, the alum asked once
    rejected = "rejected"  # an officer refused it; ``decision_reason`` says why


# "I know how to reach X": a tip from one alum (the tipster) about a lost one, from the tip form
# (``alumni.web.tip_form``). Nothing in it is used until an officer verifies it
# (``alumni.reach.tips``). One tip per tipster and lost alum.
class ReachTip(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tipster_id", "lost_alumnus_id"),)

    id: int | None = Field(default=None, primary_key=True)
    lost_alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    tipster_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # email / phone / mastodon / bluesky
    value: str = Field(max_length=320)  # normalised as the import stores it
    how_known: str = Field(max_length=1000)  # in the tipster's words
    status: TipStatus = Field(default=TipStatus.pending, sa_type=sa.String(16))
    created_at: datetime = _when(default_factory=utcnow)
    request_id: int | None = Field(
        default=None, foreign_key="request.id", ondelete="SET NULL"
    )  # the desk request that puts it before an officer, under the question SLA
    decided_at: datetime | None = _when(nullable=True, default=None)
    decided_by: str | None = Field(default=None, max_length=320)  # the officer
    decision_reason: str | None = Field(default=None, max_length=1000)  # rejected: why
    contact_point_id: int | None = Field(
        default=None, foreign_key="contactpoint.id", ondelete="SET NULL"
    )  # verified: the detail added
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", ondelete="SET NULL"
    )  # verified, email: the one message asking whether they want to hear from us
    consent_answer: str | None = Field(default=None, max_length=8)  # yes / no, from the alum
    answered_at: datetime | None = _when(nullable=True, default=None)


# A campaign an ambassador drafted for their class: nothing of it is planned or sent until an
# officer approves it (``alumni campaign approve``; the planner refuses it before then).
class CampaignDraft(SQLModel, table=True):
    campaign_id: int = Field(primary_key=True, foreign_key="campaign.id", ondelete="CASCADE")
    drafted_by: int | None = Field(
        default=None, foreign_key="alumnus.id", index=True, ondelete="SET NULL"
    )  # the ambassador
    drafted_at: datetime = _when()
    approved_by: str | None = Field(default=None, max_length=320)  # the officer
    approved_at: datetime | None = _when(nullable=True, default=None)


# One class's monthly digest to its ambassadors: a campaign of its own whose audience is the
# class's ambassadors; ``context`` is what it tells (events, reach, lost classmates by name and
# class only, open ideas), fixed when it was made (``alumni.reach.ambassador_digest``).
class AmbassadorDigest(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("class_year", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", unique=True, ondelete="CASCADE")
    class_year: int = Field(index=True)
    month: str = Field(max_length=7)  # YYYY-MM, UTC
    context: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = _when(default_factory=utcnow)


# One sharer's link for their class (an ambassador or any alum): the referral code in it signs
# this row's id, and sign-ups through it are credited to the sharer.
class ShareLink(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("alumnus_id", "class_year"),)

    id: int | None = Field(default=None, primary_key=True)
    alumnus_id: int = Field(foreign_key="alumnus.id", index=True, ondelete="CASCADE")
    class_year: int = Field(index=True)
    created_at: datetime = _when(default_factory=utcnow)


# Someone who signed up on the join page: not an alum, and sent nothing but the confirmation
# email, until they confirm their address (then ``alumnus_id``, made through the import's
# checks). The row is also the ledger row of that one email (``alumni.reach.referrals``).
class Signup(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_signup_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key on purpose: the sharer's export (GDPR) must not carry whom they brought.
    share_link_id: int | None = Field(default=None, index=True)
    class_year: int = Field(index=True)
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    locale: str | None = Field(default=None, max_length=35)
    consent_news: bool = False
    created_at: datetime = _when(default_factory=utcnow)
    confirmed_at: datetime | None = _when(nullable=True, default=None)
    alumnus_id: int | None = Field(
        default=None, foreign_key="alumnus.id", index=True, ondelete="CASCADE"
    )
    message_id: str | None = Field(default=None, max_length=200, unique=True)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(16))
    due_at: datetime | None = _when(nullable=True, default=None)
    attempts: int = 0
    maybe_duplicate: bool = False
    claimed_at: datetime | None = _when(nullable=True, default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    handed_at: datetime | None = _when(nullable=True, default=None)
    sent_at: datetime | None = _when(nullable=True, default=None)
    error: str | None = Field(default=None, max_length=1000)
