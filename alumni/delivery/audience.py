"""Who a message reaches, and why each other alum is skipped: one rule for every channel.

Pure: ``decide`` looks at one alum's facts, already read from the database as they stand at
the plan's time (``pause_runs`` and ``channel_chosen`` turn a preference into such facts), and
returns the outcome. ``alumni.delivery.planning`` applies it to a campaign, an event invite and
every follow-up mailing alike, so an alum is skipped with the same reason in each. Everyone
planned gets exactly one outcome; nobody is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from alumni.models import Frequency


class SkipReason(StrEnum):
    deceased = "deceased"
    do_not_contact = "do_not_contact"
    erased = "erased"
    lost = "lost"  # no working contact known: an address on file is not trusted
    unsubscribed = "unsubscribed"  # asked to stop news/events (suppressed for that scope)
    suppressed = "suppressed"  # address on the list for good: erased, hard bounce, complaint
    no_email = "no_email"  # no current email that works (a direct message: no handle)
    no_consent = "no_consent"
    # What the alum chose on their preference page (``alumni.people.preferences``):
    paused = "paused"  # a pause runs at the plan's time
    channel_off = "channel_off"  # they turned off the channel the campaign uses
    own_requests_only = "own_requests_only"  # only about their own requests and answers
    digest = "digest"  # news comes to them in the monthly digest instead
    over_budget = "over_budget"
    # Set by the planner, not ``decide``: the campaign's cap (``max_recipients``) was reached;
    # those nobody reached longest went first (the caller's ``PlanOptions.order``).
    over_cap = "over_cap"


# The template of the monthly digest (``alumni.delivery.digest``): the news campaign that
# gathers what a digest alum was skipped for, so it is never skipped for ``digest`` itself.
DIGEST_TEMPLATE = "digest"
# Templates of the campaigns that ask one alum about their own details (``alumni.reach.
# still_yours``) and a lost alum found by a tip whether they want to hear from us
# (``alumni.reach.tips``); both name their audience (``Campaign.named_audience``).
STILL_YOURS_TEMPLATE = "still_yours"
CONSENT_QUESTION_TEMPLATE = "consent_question"


@dataclass(frozen=True, slots=True)
class Member:
    """What the audience decision needs to know about one alum."""

    alumnus_id: int
    status: str
    # the current working address on the campaign's channel, if any: an email address, or
    # the handle a direct message goes to (``ADDRESS_KIND``)
    email: str | None
    suppressed_scopes: frozenset[str]  # scopes that address is suppressed for: all/news/events
    consent: bool | None  # latest consent for the campaign's purpose; None: never asked
    recent_messages: int  # budget-counted messages in the budget window
    # From the preference page (no choice recorded: every message on every channel).
    paused: bool = False  # a pause runs at the plan's time (``pause_runs``)
    channel_off: bool = False  # the campaign's channel is not among theirs (``channel_chosen``)
    frequency: Frequency = Frequency.every


@dataclass(frozen=True, slots=True)
class Budget:
    """The per-person contact budget: at most ``limit`` messages in ``days`` days."""

    limit: int = 4
    days: int = 30


# The preference channel that carries each campaign channel: an event mailing is an email.
PREFERENCE_CHANNEL = {"email": "email", "calendar": "email"}
# The contact kind of each campaign channel's address: a direct message on a network goes to
# the alum's handle there (``alumni.social.direct``); anything else is an email.
ADDRESS_KIND = {"email": "email", "calendar": "email", "mastodon": "mastodon"}
# The consent rows (``Consent.channel``) that speak for each campaign channel: "any", and the
# channel itself; a direct message also heeds what was said for social networks as a whole.
CONSENT_CHANNELS = {
    "email": ("any", "email"),
    "calendar": ("any", "email"),
    "mastodon": ("any", "social", "mastodon"),
}


def address_kind(campaign_channel: str) -> str:
    """The contact kind a campaign channel sends to (``ADDRESS_KIND``; email by default)."""
    return ADDRESS_KIND.get(campaign_channel, "email")


def consent_channels(campaign_channel: str) -> tuple[str, ...]:
    """The ``Consent.channel`` values that speak for a campaign channel; the latest wins."""
    return CONSENT_CHANNELS.get(campaign_channel, ("any", "email"))


def pause_runs(paused_until: datetime | None, *, now: datetime) -> bool:
    """True while an alum's pause runs: messages may go again from ``paused_until`` on."""
    return paused_until is not None and now < paused_until


def channel_chosen(channels: Iterable[str], campaign_channel: str) -> bool:
    """True when the alum's chosen ``channels`` carry the campaign's channel."""
    return PREFERENCE_CHANNEL.get(campaign_channel, campaign_channel) in set(channels)


_NOT_TO_CONTACT = frozenset(
    {SkipReason.deceased, SkipReason.do_not_contact, SkipReason.erased, SkipReason.lost}
)


def decide(
    member: Member,
    *,
    purpose: str,
    budget: Budget,
    require_consent: bool = False,
    digest_campaign: bool = False,
) -> SkipReason | None:
    """Return why this alum is skipped, or None when the message should go to them.

    The rule, first match wins: an alum who must not be contacted (deceased, do not contact,
    erased, lost); no working address on the channel (``no_email``: for a direct message, no
    handle); the address suppressed for all mail; unsubscribed from
    the purpose; then what they chose on their preference page: a pause running (``paused``),
    the campaign's channel turned off (``channel_off``), only their own requests
    (``own_requests_only``), or news in the monthly digest (``digest``: news only, events still
    come one by one, and never the digest itself: ``digest_campaign``, a campaign with the
    ``DIGEST_TEMPLATE``); then consent refused (or never given, with ``require_consent``); then
    the contact budget.

    Service messages (about an alum's own request or answer: event reminders, waitlist notices)
    are never capped by the budget, ignore news/events unsubscribes and every preference-page
    choice, and need no recorded consent even with ``require_consent``; only a suppression for
    all mail or a refusal stops them.
    """
    if member.status in _NOT_TO_CONTACT:
        return SkipReason(member.status)
    if member.email is None:
        return SkipReason.no_email
    if "all" in member.suppressed_scopes:
        return SkipReason.suppressed
    if purpose != "service" and purpose in member.suppressed_scopes:
        return SkipReason.unsubscribed
    if purpose != "service" and (chosen := _chosen_skip(member, purpose, digest_campaign)):
        return chosen
    if member.consent is False or (
        require_consent and member.consent is None and purpose != "service"
    ):
        return SkipReason.no_consent
    if purpose != "service" and member.recent_messages >= budget.limit:
        return SkipReason.over_budget
    return None


def _chosen_skip(member: Member, purpose: str, digest_campaign: bool) -> SkipReason | None:
    """Why the alum's own choices hold back a news or events message, if they do."""
    if member.paused:
        return SkipReason.paused
    if member.channel_off:
        return SkipReason.channel_off
    if member.frequency == Frequency.own_requests:
        return SkipReason.own_requests_only
    if member.frequency == Frequency.digest and purpose == "news" and not digest_campaign:
        return SkipReason.digest
    return None
