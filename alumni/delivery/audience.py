"""Who a message reaches, and why each other alum is skipped: one rule for every channel.

Pure: ``decide`` looks at one alum's facts, already read from the database, and returns the
outcome. ``alumni.delivery.planning`` applies it to a campaign, an event invite and every
follow-up mailing alike, so an alum is skipped with the same reason in each. Everyone planned
gets exactly one outcome; nobody is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SkipReason(StrEnum):
    deceased = "deceased"
    do_not_contact = "do_not_contact"
    erased = "erased"
    lost = "lost"  # no working contact known: an address on file is not trusted
    unsubscribed = "unsubscribed"  # asked to stop news/events (suppressed for that scope)
    suppressed = "suppressed"  # address on the list for good: erased, hard bounce, complaint
    no_email = "no_email"  # no current email that works
    no_consent = "no_consent"
    digest = "digest"  # news comes to them in the monthly digest instead
    over_budget = "over_budget"


# The template of the monthly digest (``alumni.delivery.digest``): the news campaign that
# gathers what a digest alum was skipped for, so it is never skipped for ``digest`` itself.
DIGEST_TEMPLATE = "digest"


@dataclass(frozen=True, slots=True)
class Member:
    """What the audience decision needs to know about one alum."""

    alumnus_id: int
    status: str
    email: str | None  # the current working address, if any
    suppressed_scopes: frozenset[str]  # scopes the email is suppressed for: all/news/events
    consent: bool | None  # latest consent for the campaign's purpose; None: never asked
    recent_messages: int  # budget-counted messages in the budget window


@dataclass(frozen=True, slots=True)
class Budget:
    """The per-person contact budget: at most ``limit`` messages in ``days`` days."""

    limit: int = 4
    days: int = 30


_NOT_TO_CONTACT = frozenset(
    {SkipReason.deceased, SkipReason.do_not_contact, SkipReason.erased, SkipReason.lost}
)


def decide(
    member: Member, *, purpose: str, budget: Budget, require_consent: bool = False
) -> SkipReason | None:
    """Return why this alum is skipped, or None when the message should go to them.

    Service messages (about an alum's own request or answer: event reminders, waitlist notices)
    are never capped by the budget, ignore news/events unsubscribes and need no recorded consent
    even with ``require_consent``; only a suppression for all mail or a refusal stops them.
    """
    if member.status in _NOT_TO_CONTACT:
        return SkipReason(member.status)
    if member.email is None:
        return SkipReason.no_email
    if "all" in member.suppressed_scopes:
        return SkipReason.suppressed
    if purpose != "service" and purpose in member.suppressed_scopes:
        return SkipReason.unsubscribed
    if member.consent is False or (
        require_consent and member.consent is None and purpose != "service"
    ):
        return SkipReason.no_consent
    if purpose != "service" and member.recent_messages >= budget.limit:
        return SkipReason.over_budget
    return None
