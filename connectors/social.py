"""What every social network connector takes and gives back, and the factory that opens one.

Mastodon, Bluesky and a class chat's incoming webhook all meet `SocialNetwork`: `verify` the
account, `post` one `SocialPost`, read its `engagement` where the network keeps any. `post`
answers with a `PostReceipt`, never an exception for what the network says: `sent`, `transient`
(try again later, after `retry_after` seconds if the network said) or `permanent` (retrying will
not help). Each post carries an idempotency key fixed per delivery, so posting it again after a
timeout leaves one post on the network, not two (a webhook cannot promise that: see
`connectors.webhook`). Whatever a network needs beyond the text (Bluesky's facets for links,
tags and mentions) its connector works out itself, so a caller never asks which network it has.

Direct messages are a capability some networks offer and others do not: `direct_messaging` gives
the connector's `DirectMessaging` (Mastodon: a status of visibility "direct" that mentions the
one account it is for), or None where the network has none (Bluesky's repository protocol has
no direct messages: its chat is a separate service, chat.bsky; a webhook talks to a room, not a
person). A caller asks the capability, never the connector's class.

Example:
    >>> with open_social_network("mastodon", "https://mastodon.example", secret=token) as net:
    ...     receipt = net.post(SocialPost("delivery-42", "Class of 2015: reunion on 18 Oct!"))
    >>> receipt.outcome, receipt.url
    (<Outcome.SENT: 'sent'>, 'https://mastodon.example/@alumni/1133')
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, Self, runtime_checkable

from connectors.mail import Outcome

__all__ = [
    "REACTION_CAP",
    "DirectMessage",
    "DirectMessaging",
    "Engagement",
    "Outcome",
    "PostReceipt",
    "Reaction",
    "SocialConnectError",
    "SocialNetwork",
    "SocialPost",
    "SocialReply",
    "direct_messaging",
    "open_social_network",
    "retry_after_seconds",
]

# The networks `open_social_network` opens.
_NETWORKS = ("mastodon", "bluesky", "webhook")

# At most this many reactions of each kind are read per post: the counts stay exact beyond it.
REACTION_CAP = 400

# A bare number above this is a Unix time (seconds since 1970), below it seconds to wait.
_EPOCH_THRESHOLD = 1_000_000_000


class SocialConnectError(ConnectionError):
    """No usable answer from a social network: unreachable, login refused, or an answer not
    understood. The message names the network, the server and what to fix, never a secret.

    Attributes:
        transient: True when trying again later may work (unreachable, rate-limited, 5xx);
            False when a person must fix something first (wrong password, unknown post).
        retry_after: seconds the network asked us to wait, when it said.
    """

    def __init__(
        self, message: str, *, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SocialPost:
    """One post for one network.

    Attributes:
        key: the idempotency key, fixed per delivery (e.g. "delivery-42"); the same key posted
            twice leaves one post (Mastodon, Bluesky; a webhook passes it on as a header).
        text: the post's text, already checked with `alumni.social.text.check_length`.
        language: its BCP 47 language ("en", "pt-BR"), or None to let the network guess.
        created_at: when the post was written, timezone-aware and fixed per delivery; Bluesky shows
            it as the post's time and builds the record key from it. None: now (Bluesky then
            builds the record key from `key` alone). Mastodon and webhooks ignore it.
        title: a heading shown above the text where the network has one (a webhook's chat
            message); Mastodon and Bluesky posts have none and ignore it.
    """

    key: str
    text: str
    language: str | None = None
    created_at: datetime | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.key.isprintable() or len(self.key) > 256:
            raise ValueError(
                f"social post key {self.key!r} must be 1 to 256 printable characters, fixed per "
                "delivery"
            )
        if not self.text.strip():
            raise ValueError(f"social post {self.key!r} has no text")
        if self.created_at is not None and self.created_at.utcoffset() is None:
            raise ValueError(
                f"social post {self.key!r} created_at {self.created_at.isoformat()} has no time "
                "zone; pass a UTC-aware datetime"
            )


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """One private message to one account, on a network that has them (`DirectMessaging`).

    Attributes:
        key: the idempotency key, fixed per delivery; the same key sent twice leaves one message.
        to: the account it is for, as the alum gave it (Mastodon: "@name@server.social").
        text: the message without the address; `addressed_text` is what goes out.
        language: its BCP 47 language ("en", "pt-BR"), or None to let the network guess.
    """

    key: str
    to: str
    text: str
    language: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.key.isprintable() or len(self.key) > 256:
            raise ValueError(
                f"direct message key {self.key!r} must be 1 to 256 printable characters, fixed "
                "per delivery"
            )
        name = self.to.strip().lstrip("@")
        if not name or not self.to.isprintable() or any(c.isspace() for c in self.to.strip()):
            raise ValueError(
                f"direct message {self.key!r}: {self.to!r} is not an account; give it as "
                "@name@server.social"
            )
        if not self.text.strip():
            raise ValueError(f"direct message {self.key!r} has no text")

    @property
    def addressed_text(self) -> str:
        """The text as sent: the mention of `to` first, so the network delivers it to that
        account and no one else (check its length with this, not `text`)."""
        return f"@{self.to.strip().lstrip('@')} {self.text}"


@dataclass(frozen=True, slots=True)
class PostReceipt:
    """The answer for one `SocialPost` (or one webhook message).

    Attributes:
        key: the `SocialPost.key` this answers ("" for a webhook message).
        outcome: sent, transient or permanent.
        remote_id: the network's id for the post (Mastodon status id, Bluesky at:// URI), when sent.
        url: where a person can see the post, when the network gives one.
        retry_after: seconds to wait before trying again, when the network said (rate limits).
        reply: the network's answer in a line, e.g. "422 Validation failed: Text is too long",
            or what went wrong when there was no answer.
        in_doubt: True when the request may have reached the network but no answer came (a
            timeout, a dropped connection, a 5xx): the post may exist; posting again with the same
            key is how to find out without a duplicate.
    """

    key: str
    outcome: Outcome
    remote_id: str | None
    url: str | None
    retry_after: float | None
    reply: str
    in_doubt: bool = False


@dataclass(frozen=True, slots=True)
class SocialReply:
    """One reply under a post.

    Attributes:
        remote_id: the reply's id on the network (Mastodon status id, Bluesky at:// URI).
        author: who wrote it, as an alum would give their handle: on Mastodon the full
            `user@domain` ("ada@other.example"; a local account gets its server's domain,
            "ada@mastodon.example", never a bare "ada"), on Bluesky the handle in lower case
            ("ada.bsky.social").
        text: its text, plain (Mastodon's HTML reduced to text).
        url: where a person can see it, when known.
        created_at: when it was written, when the network says.
    """

    remote_id: str
    author: str
    text: str
    url: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    """One like or repost of a post, by one account.

    Attributes:
        kind: "like" (a Mastodon favourite, a Bluesky like) or "repost" (a boost, a repost).
        author: who, in the same form as `SocialReply.author`: Mastodon's full `user@domain`,
            a Bluesky handle in lower case (the account's DID when Bluesky has no valid handle
            for it), so it can be compared with the handle an alum gave.
        created_at: when, where the network says (Bluesky likes); None otherwise (Mastodon
            does not say when an account favourited or boosted, nor Bluesky when it reposted).
    """

    kind: str
    author: str
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("like", "repost"):
            raise ValueError(f"reaction kind {self.kind!r} must be 'like' or 'repost'")


@dataclass(frozen=True, slots=True)
class Engagement:
    """How people answered one post, as counted by the network when asked.

    `likes` and `reposts` are the network's counts; `reactions` are the accounts the network
    lists, at most `REACTION_CAP` (400) of each kind. The two can differ: beyond the cap, and
    because networks leave out accounts that are hidden, blocked, suspended or not known to the
    server asked (Mastodon lists only the boosts and favourites its server has seen).

    Attributes:
        remote_id: the post asked about.
        likes: favourites (Mastodon) or likes (Bluesky), as the network counts them.
        reposts: boosts (Mastodon) or reposts (Bluesky), as the network counts them.
        reply_count: replies as the network counts them (may include ones not visible to us).
        replies: the replies visible to us, nested ones included, oldest thread first.
        quotes: quote posts, where the network counts them (Bluesky), else 0.
        reactions: who liked and who reposted, as the network lists them: likes first, then
            reposts, each in the network's order; at most `REACTION_CAP` of each kind.
    """

    remote_id: str
    likes: int
    reposts: int
    reply_count: int
    replies: tuple[SocialReply, ...] = field(default=())
    quotes: int = 0
    reactions: tuple[Reaction, ...] = field(default=())


class SocialNetwork(Protocol):
    """A social network connector: Mastodon, Bluesky or a class chat's webhook.

    Open one with `open_social_network`; use it in a ``with`` block or call `close`.
    """

    name: str

    def verify(self) -> str:
        """Check that the account can be reached and is accepted, without posting anything.

        Returns:
            Who or where the account is, for a person to read: the Mastodon user name, the
            Bluesky handle, the webhook's scheme and host.

        Raises:
            SocialConnectError: naming what failed and what to fix.
        """
        ...

    def post(self, post: SocialPost) -> PostReceipt:
        """Publish one post under its idempotency key.

        Returns:
            Its receipt: what the network said, or what went wrong on the way, never raised.
        """
        ...

    def engagement(self, remote_id: str) -> Engagement | None:
        """Likes, reposts and replies of a post made earlier, and who liked and reposted it.

        Args:
            remote_id: the `PostReceipt.remote_id` the post was given.

        Returns:
            The engagement, or None when the network keeps none to read (a webhook's chat).

        Raises:
            SocialConnectError: naming what failed and what to do.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class DirectMessaging(Protocol):
    """The direct-message capability of a network that has one (see `direct_messaging`)."""

    def send_direct(self, message: DirectMessage) -> PostReceipt:
        """Send one private message under its idempotency key.

        Returns:
            Its receipt (`remote_id`: the network's id for it), never raised: sent,
            transient (try again, after `retry_after` when the network said) or permanent.
        """
        ...


def direct_messaging(network: SocialNetwork) -> DirectMessaging | None:
    """The network's direct messages, or None when it has none (Bluesky, a webhook)."""
    return network if isinstance(network, DirectMessaging) else None


def open_social_network(
    network: str,
    url: str,
    *,
    handle: str = "",
    secret: str = "",
    style: str = "generic",
    allow_private: bool = False,
) -> SocialNetwork:
    """The connector for one account on `network`; close it when done.

    Args:
        network: "mastodon", "bluesky" or "webhook".
        url: the Mastodon server, the Bluesky PDS, or the webhook's URL (a secret itself).
        handle: the Bluesky handle (Bluesky only).
        secret: the Mastodon access token or the Bluesky app password.
        style: the webhook's payload shape: "slack", "discord", "teams" or "generic".
        allow_private: let a webhook reach loopback, private and link-local addresses (tests,
            a chat server on the office's own network); Mastodon and Bluesky servers are the
            office's own choice and are not checked.

    Raises:
        ValueError: an unknown network, or a URL, handle, secret or style the connector refuses,
            named (never the secret itself).
    """
    if network == "mastodon":
        from connectors.mastodon import MastodonClient

        return MastodonClient(url, secret)
    if network == "bluesky":
        from connectors.bluesky import BlueskyClient

        return BlueskyClient(url, handle, secret)
    if network == "webhook":
        from connectors.webhook import WebhookClient

        return WebhookClient(url, style=style, allow_private=allow_private)
    raise ValueError(f"social network {network!r} is not one of {', '.join(_NETWORKS)}")


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long a rate-limited network asks us to wait, from its response headers.

    Reads, in order: `Retry-After` (seconds or an HTTP date, RFC 9110), `RateLimit-Reset`
    (Bluesky: a Unix time), `X-RateLimit-Reset` (Mastodon: an ISO 8601 time; some servers a
    Unix time). A bare number above 10^9 is taken as a Unix time, a smaller one as seconds.

    Args:
        headers: the response headers (case-insensitive, as httpx gives them).
        now: the current time, timezone-aware.

    Returns:
        Seconds to wait (0 if the time has passed), or None if no header says.
    """
    for name in ("retry-after", "ratelimit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if value is None:
            continue
        at = _reset_time(value.strip(), now)
        if at is not None:
            return max(0.0, (at - now).total_seconds())
    return None


def _reset_time(value: str, now: datetime) -> datetime | None:
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            return None
        if number > _EPOCH_THRESHOLD:
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=max(0.0, number))
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return when if when.utcoffset() is not None else when.replace(tzinfo=UTC)


def parse_when(value: object) -> datetime | None:
    """A timestamp from a network's JSON (ISO 8601; naive taken as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.utcoffset() is not None else when.replace(tzinfo=UTC)
