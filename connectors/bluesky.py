"""Post to a Bluesky account through its PDS (personal data server) and read back engagement.

Links, hashtags and mentions are made clickable here: `post` adds the rich-text facets
(`connectors.richtext.bluesky_facets`) to every record, resolving each mentioned handle to its DID
through the PDS (a handle it cannot resolve stays plain text).

Exactly once: each post is written with `com.atproto.repo.createRecord` under a record key derived
from `SocialPost.key` (a TID, as the `app.bsky.feed.post` lexicon requires), so a retry names the
same record. `createRecord` never overwrites: when the key is taken (the PDS answers 500) or no
answer came, `com.atproto.repo.getRecord` settles it: our text there means it was posted, another
text means two deliveries share a key. `putRecord` is idempotent too but would silently replace
a post made earlier under the same key, changing its CID and orphaning the likes and reposts that
point at the old one.

Sessions: `login` uses `com.atproto.server.createSession`, which Bluesky limits to 30 per 5 minutes
and 300 a day per account; an expired access token is renewed with `refreshSession`, and a caller
that runs often can keep `session` and hand it back next time.

Engagement (`app.bsky.feed.getPostThread`, and who liked and reposted: `app.bsky.feed.getLikes`,
`app.bsky.feed.getRepostedBy`, 100 a page by cursor, up to `REACTION_CAP` of each) is answered by
an AppView, which the PDS proxies to.

Example:
    >>> with BlueskyClient("https://bsky.social", "alumni.example.edu", app_password) as bluesky:
    ...     receipt = bluesky.post(SocialPost("delivery-42", "Reunion on 18 Oct! #Class2015"))
    >>> receipt.remote_id
    'at://did:plc:abc.../app.bsky.feed.post/3kq2...'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.mail import Closing
from connectors.richtext import bluesky_facets
from connectors.secure_url import refuse_plain_http
from connectors.social import (
    REACTION_CAP,
    Engagement,
    Outcome,
    PostReceipt,
    Reaction,
    SocialConnectError,
    SocialPost,
    SocialReply,
    parse_when,
    retry_after_seconds,
)

POST_COLLECTION = "app.bsky.feed.post"
WEB_URL = "https://bsky.app"

_S32 = "234567abcdefghijklmnopqrstuvwxyz"  # the TID alphabet, in sort order
# With no created_at, a record key's time is spread over the year from here, by the key's hash.
_KEYED_EPOCH = 1_672_531_200  # 2023-01-01T00:00:00Z
_KEYED_SPAN = 365 * 86_400
_LOGIN_ADVICE = (
    "check the handle and the app password (Bluesky: Settings > Privacy and security > "
    "App passwords)"
)
_THREAD_POST = "app.bsky.feed.defs#threadViewPost"
# The most likes or reposts an AppView gives in one page (the lexicons' limit maximum).
_REACTIONS_PAGE = 100
# What an AppView shows for an account whose handle it could not verify.
_INVALID_HANDLE = "handle.invalid"
_APPVIEW_ADVICE = (
    "app.bsky.* reads are answered by a Bluesky AppView, which this PDS could not reach"
)


@dataclass(frozen=True, slots=True)
class BlueskySession:
    """A logged-in session; keep it between runs to spare the login rate limit.

    Attributes:
        did: the account's DID, the repository posts are written to.
        handle: the account's handle.
        access_jwt: the short-lived token for each call (never shown by `repr`).
        refresh_jwt: the long-lived token that renews it (never shown by `repr`).
    """

    did: str
    handle: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)


class BlueskyClient(Closing):
    """One Bluesky account on its PDS.

    Args:
        service_url: the account's PDS, e.g. "https://bsky.social"; http:// only to this machine.
        handle: the account's handle (or its DID, or the account's email), used to log in.
        app_password: an app password for the account; never shown by `repr` or in errors.
        client: an httpx client to send through; None makes one, closed by `close`.
        timeout: seconds to wait for the server at each step of a request.
        session: a session from an earlier run (`BlueskyClient.session`), to skip the login.
    """

    name = "bluesky"

    def __init__(
        self,
        service_url: str,
        handle: str,
        app_password: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        session: BlueskySession | None = None,
    ) -> None:
        parts = urlsplit(service_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"Bluesky service URL {service_url!r} must be http(s)://host, e.g. "
                "https://bsky.social"
            )
        refuse_plain_http(service_url, what="Bluesky PDS", carrying="app password")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError(
                f"Bluesky service URL for {parts.hostname} must be only https://host, without "
                "a user, path, ?query or #fragment"
            )
        if not handle.strip():
            raise ValueError(f"Bluesky handle for {parts.hostname} is empty")
        if not app_password or not app_password.isprintable():
            raise ValueError(
                f"Bluesky app password for {handle} is empty or has control characters; copy it "
                "again"
            )
        if timeout <= 0:
            raise ValueError(f"Bluesky timeout must be a positive number of seconds, not {timeout}")
        self.service_url = f"{parts.scheme}://{parts.netloc}"
        self.handle = handle.strip()
        self.timeout = timeout
        self._app_password = app_password
        self._session = session
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return (
            f"BlueskyClient(service_url={self.service_url!r}, handle={self.handle!r}, "
            "app_password='***')"
        )

    def close(self) -> None:
        """Close the httpx client if this object made it."""
        if self._own_client:
            self._client.close()

    @property
    def session(self) -> BlueskySession | None:
        """The current session (None before the first login), to keep for the next run."""
        return self._session

    def verify(self) -> str:
        """Log in and return the account's handle, as the PDS spells it.

        Raises:
            SocialConnectError: as `login`.
        """
        return self.login().handle

    def resolve_handle(self, handle: str) -> str | None:
        """The DID of `handle` (for a mention facet), or None when the PDS cannot resolve it.

        A mention that cannot be resolved stays plain text: that is no reason to stop a post.
        """
        try:
            response = self._client.get(
                self._xrpc_url("com.atproto.identity.resolveHandle"),
                params={"handle": handle},
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TransportError:
            return None
        did = _json(response).get("did") if response.is_success else None
        return did if isinstance(did, str) and did.startswith("did:") else None

    def login(self) -> BlueskySession:
        """Open a new session with `com.atproto.server.createSession`.

        Raises:
            SocialConnectError: unreachable or rate-limited (`transient`, with `retry_after`), or
                the handle and app password refused, saying what to fix.
        """
        body = {"identifier": self.handle, "password": self._app_password}
        try:
            response = self._client.post(
                self._xrpc_url("com.atproto.server.createSession"),
                json=body,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if not response.is_success:
            advice = _LOGIN_ADVICE if response.status_code in (400, 401, 403) else ""
            raise self._refusal(response, f"the login for {self.handle}", advice=advice)
        self._session = self._session_from(response, "createSession")
        return self._session

    def post(self, post: SocialPost) -> PostReceipt:
        """Publish `post` as an `app.bsky.feed.post` record under its derived record key.

        The record carries the facets for the links, hashtags and mentions in the text.

        Returns:
            Its receipt; `remote_id` is the post's at:// URI and `url` its bsky.app page.
        """
        rkey = record_key(post)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": post.text,
            "createdAt": _iso(post.created_at or datetime.now(UTC)),
        }
        if post.language:
            record["langs"] = [post.language]
        facets = bluesky_facets(post.text, resolve_handle=self.resolve_handle)
        if facets:
            record["facets"] = facets
        try:
            did = (self._session or self.login()).did
            body = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
            response = self._call("POST", "com.atproto.repo.createRecord", body)
        except SocialConnectError as exc:
            outcome = Outcome.TRANSIENT if exc.transient else Outcome.PERMANENT
            return PostReceipt(post.key, outcome, None, None, exc.retry_after, str(exc))
        except httpx.TransportError as exc:
            if _never_sent(exc):
                reply = f"cannot reach Bluesky PDS {self.service_url}: {_describe(exc)}"
                return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, reply)
            return self._settle(post, rkey, _describe(exc), in_doubt=True)
        if response.is_success:
            uri = _json(response).get("uri")
            if not isinstance(uri, str):
                return self._settle(post, rkey, f"{response.status_code} without a URI", True)
            return self._sent(post.key, uri, f"{response.status_code}")
        reply = _answer(response)
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            return PostReceipt(post.key, Outcome.TRANSIENT, None, None, wait, reply)
        if response.status_code >= 500:
            # Also what the PDS answers when the record key is taken: look before retrying.
            return self._settle(post, rkey, reply, in_doubt=False)
        if response.status_code in (401, 403):
            reply = f"{reply}; {_LOGIN_ADVICE}"
        return PostReceipt(post.key, Outcome.PERMANENT, None, None, None, reply)

    def engagement(self, remote_id: str) -> Engagement:
        """Likes, reposts, quotes and replies of a post, and who liked and reposted it.

        The counts and replies come from `app.bsky.feed.getPostThread`; the reactions are the
        accounts `app.bsky.feed.getLikes` and `app.bsky.feed.getRepostedBy` list, at most
        `REACTION_CAP` of each, authors as lower-case handles. The PDS passes these to its
        AppView; a PDS without one (a local test server) cannot answer.

        Args:
            remote_id: the post's at:// URI from a `PostReceipt`.

        Raises:
            SocialConnectError: the post is gone, or the PDS or its AppView could not answer.
        """
        if self._session is None:
            self.login()
        thread = _json(
            self._appview_get(
                "app.bsky.feed.getPostThread",
                {"uri": remote_id, "depth": 10},
                f"the thread of {remote_id}",
            )
        )
        likes = self._reactions("app.bsky.feed.getLikes", remote_id, reactions_from_likes)
        reposts = self._reactions(
            "app.bsky.feed.getRepostedBy", remote_id, reactions_from_reposted_by
        )
        try:
            return engagement_from_thread(remote_id, thread, reactions=likes + reposts)
        except (KeyError, TypeError, ValueError) as exc:
            raise SocialConnectError(
                f"Bluesky PDS {self.service_url} answered the thread of {remote_id} in an "
                f"unexpected shape ({exc!r})"
            ) from None

    def _appview_get(self, nsid: str, params: dict[str, Any], what: str) -> httpx.Response:
        """A GET that the PDS passes to its AppView; SocialConnectError unless it answers 2xx."""
        try:
            response = self._call("GET", nsid, params)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if not response.is_success:
            advice = (
                _APPVIEW_ADVICE if response.status_code >= 500 else "check the post's at:// URI"
            )
            raise self._refusal(response, what, advice=advice)
        return response

    def _reactions(
        self,
        nsid: str,
        uri: str,
        parse: Callable[[dict[str, Any]], tuple[Reaction, ...]],
    ) -> tuple[Reaction, ...]:
        """The reactions one paginated AppView list gives, at most `REACTION_CAP` of them."""
        found: list[Reaction] = []
        cursor: str | None = None
        seen: set[str] = set()
        while len(found) < REACTION_CAP:
            params: dict[str, Any] = {"uri": uri, "limit": _REACTIONS_PAGE}
            if cursor is not None:
                params["cursor"] = cursor
            data = _json(self._appview_get(nsid, params, f"{nsid} for {uri}"))
            try:
                page = parse(data)
            except (KeyError, TypeError, ValueError) as exc:
                raise SocialConnectError(
                    f"Bluesky PDS {self.service_url} answered {nsid} for {uri} in an unexpected "
                    f"shape ({exc!r}); is its AppView a Bluesky one?"
                ) from None
            found.extend(page)
            next_cursor = data.get("cursor")
            # A page without items or a cursor seen before would only loop.
            if not page or not isinstance(next_cursor, str) or not next_cursor:
                break
            if next_cursor in seen:
                break
            seen.add(next_cursor)
            cursor = next_cursor
        return tuple(found[:REACTION_CAP])

    def _call(self, method: str, nsid: str, payload: dict[str, Any]) -> httpx.Response:
        """One authenticated XRPC call, renewing the session once if the token has expired."""
        response = self._request(method, nsid, payload)
        # InvalidToken too: a kept session from a PDS that has since rotated its signing secret.
        if _error_name(response) in ("ExpiredToken", "InvalidToken"):
            self._refresh()
            response = self._request(method, nsid, payload)
        return response

    def _request(self, method: str, nsid: str, payload: dict[str, Any]) -> httpx.Response:
        assert self._session is not None  # callers log in first
        return self._client.request(
            method,
            self._xrpc_url(nsid),
            headers={"Authorization": f"Bearer {self._session.access_jwt}"},
            json=payload if method == "POST" else None,
            params=payload if method == "GET" else None,
            timeout=self.timeout,
            follow_redirects=False,
        )

    def _refresh(self) -> None:
        """Renew the session with its refresh token, or log in again if that has expired too."""
        assert self._session is not None
        try:
            response = self._client.post(
                self._xrpc_url("com.atproto.server.refreshSession"),
                headers={"Authorization": f"Bearer {self._session.refresh_jwt}"},
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_success:
            self._session = self._session_from(response, "refreshSession")
        elif response.status_code in (400, 401):  # refresh token expired or revoked
            self.login()
        else:
            raise self._refusal(response, f"renewing the session of {self.handle}", advice="")

    def _settle(self, post: SocialPost, rkey: str, problem: str, in_doubt: bool) -> PostReceipt:
        """After no clear answer: is our record there? Sent if so, else transient."""
        assert self._session is not None
        params = {"repo": self._session.did, "collection": POST_COLLECTION, "rkey": rkey}
        try:
            response = self._call("GET", "com.atproto.repo.getRecord", params)
        except (httpx.TransportError, SocialConnectError) as exc:
            reply = f"{problem}; and checking for the post failed too: {_describe(exc)}"
            return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, reply, in_doubt=True)
        if response.is_success:
            found = _json(response)
            value = found.get("value")
            uri = found.get("uri")
            text = value.get("text") if isinstance(value, dict) else None
            if isinstance(uri, str) and text == post.text:
                return self._sent(post.key, uri, f"{problem}; but the post is there: sent")
            reply = (
                f"record key {rkey} already holds a different post ({uri}); two deliveries may "
                f"share the idempotency key {post.key!r}: check that post before sending again"
            )
            return PostReceipt(post.key, Outcome.PERMANENT, None, None, None, reply)
        if _error_name(response) == "RecordNotFound":
            return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, problem, in_doubt)
        reply = f"{problem}; and checking for the post answered {_answer(response)}"
        return PostReceipt(post.key, Outcome.TRANSIENT, None, None, None, reply, in_doubt=True)

    def _sent(self, key: str, uri: str, reply: str) -> PostReceipt:
        return PostReceipt(key, Outcome.SENT, uri, _web_url(uri), None, reply)

    def _session_from(self, response: httpx.Response, nsid: str) -> BlueskySession:
        data = _json(response)
        try:
            return BlueskySession(
                did=str(data["did"]),
                handle=str(data.get("handle") or self.handle),
                access_jwt=str(data["accessJwt"]),
                refresh_jwt=str(data["refreshJwt"]),
            )
        except KeyError:
            raise SocialConnectError(
                f"Bluesky PDS {self.service_url} answered {nsid} without a session; is it a PDS?"
            ) from None

    def _xrpc_url(self, nsid: str) -> str:
        return f"{self.service_url}/xrpc/{nsid}"

    def _unreachable(self, exc: httpx.TransportError) -> SocialConnectError:
        return SocialConnectError(
            f"cannot reach Bluesky PDS {self.service_url} ({_describe(exc)}); check the service "
            "URL and that the server is up",
            transient=True,
        )

    def _refusal(self, response: httpx.Response, what: str, *, advice: str) -> SocialConnectError:
        """The error for a non-2xx answer: transient for 429 and 5xx, else permanent."""
        code = response.status_code
        if response.is_redirect:
            advice = f"it redirects to {response.headers.get('location')}; use that service URL"
        message = f"Bluesky PDS {self.service_url} answered {_answer(response)} to {what}"
        if advice:
            message = f"{message}; {advice}"
        if code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            return SocialConnectError(message, transient=True, retry_after=wait)
        return SocialConnectError(message, transient=code >= 500)


def record_key(post: SocialPost) -> str:
    """The record key for `post`: a TID (13 base32-sortable characters) fixed by its key.

    The TID's time is `post.created_at` to the second, plus microseconds and a clock id taken
    from a hash of `post.key`, so posts sort by time and two keys written in the same second
    still differ. Without `created_at`, the second too comes from the hash (within 2023).
    """
    digest = hashlib.sha256(post.key.encode("utf-8")).digest()
    clock_id = int.from_bytes(digest[0:2], "big") & 0x3FF
    micros = int.from_bytes(digest[2:6], "big") % 1_000_000
    if post.created_at is not None:
        second = int(post.created_at.timestamp() // 1)
    else:
        second = _KEYED_EPOCH + int.from_bytes(digest[6:10], "big") % _KEYED_SPAN
    value = ((second * 1_000_000 + micros) << 10) | clock_id
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


def engagement_from_thread(
    remote_id: str, data: dict[str, Any], *, reactions: tuple[Reaction, ...] = ()
) -> Engagement:
    """Build an `Engagement` from an `app.bsky.feed.getPostThread` answer.

    Replies that are blocked, deleted or hidden (not `threadViewPost`) are left out; reply
    authors are lower-case handles (see `actor_address`).

    Args:
        remote_id: the post asked about.
        data: the getPostThread answer.
        reactions: who liked and reposted, from `reactions_from_likes` and
            `reactions_from_reposted_by`.

    Raises:
        KeyError, TypeError, ValueError: the JSON is not shaped like Bluesky's, or the post is
            not found.
    """
    thread = data["thread"]
    if thread.get("$type") != _THREAD_POST:
        raise ValueError(f"the post is {thread.get('$type')}, not a thread view")
    post = thread["post"]
    replies: list[SocialReply] = []
    pending = list(thread.get("replies") or [])
    while pending:
        item = pending.pop(0)
        if item.get("$type") != _THREAD_POST:
            continue
        view = item["post"]
        record = view["record"]
        replies.append(
            SocialReply(
                remote_id=str(view["uri"]),
                author=actor_address(view["author"]),
                text=str(record.get("text", "")),
                url=_web_url(str(view["uri"])),
                created_at=parse_when(record.get("createdAt") or view.get("indexedAt")),
            )
        )
        pending.extend(item.get("replies") or [])
    return Engagement(
        remote_id=remote_id,
        likes=int(post.get("likeCount", 0)),
        reposts=int(post.get("repostCount", 0)),
        reply_count=int(post.get("replyCount", len(replies))),
        replies=tuple(replies),
        quotes=int(post.get("quoteCount", 0)),
        reactions=reactions,
    )


def reactions_from_likes(data: dict[str, Any]) -> tuple[Reaction, ...]:
    """Likes from one `app.bsky.feed.getLikes` answer (`likes[].actor`, `likes[].createdAt`).

    Returns:
        One "like" `Reaction` per item, in the AppView's order, with the like's time.

    Raises:
        KeyError, TypeError, ValueError: the JSON is not shaped like the lexicon's.
    """
    return tuple(
        Reaction("like", actor_address(item["actor"]), parse_when(item.get("createdAt")))
        for item in _items(data, "likes")
    )


def reactions_from_reposted_by(data: dict[str, Any]) -> tuple[Reaction, ...]:
    """Reposts from one `app.bsky.feed.getRepostedBy` answer (`repostedBy[]`, profile views).

    Returns:
        One "repost" `Reaction` per account, in the AppView's order; the lexicon gives no time.

    Raises:
        KeyError, TypeError, ValueError: the JSON is not shaped like the lexicon's.
    """
    return tuple(Reaction("repost", actor_address(item)) for item in _items(data, "repostedBy"))


def actor_address(actor: Mapping[str, Any]) -> str:
    """A Bluesky account as an alum would give it: its handle in lower case.

    An account whose handle the AppView could not verify shows as "handle.invalid"; it is
    given by its DID instead, so two such accounts stay apart.

    Args:
        actor: an `app.bsky.actor.defs` profile view (needs `handle`; `did` for invalid ones).

    Raises:
        KeyError, TypeError, ValueError: there is no handle, or it is empty.
    """
    handle = actor["handle"]
    if not isinstance(handle, str) or not handle.strip():
        raise ValueError(f"actor handle {handle!r} is not a handle")
    handle = handle.strip().lower()
    if handle == _INVALID_HANDLE:
        return str(actor["did"])
    return handle


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    items = data[key]
    if not isinstance(items, list):
        raise TypeError(f"{key} is {type(items).__name__}, not a list")
    return items


def _web_url(uri: str) -> str | None:
    did, sep, rkey = uri.removeprefix("at://").partition(f"/{POST_COLLECTION}/")
    return f"{WEB_URL}/profile/{did}/post/{rkey}" if sep else None


def _iso(when: datetime) -> str:
    """The lexicon's datetime: UTC, milliseconds, a Z."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_name(response: httpx.Response) -> str | None:
    """The XRPC error name ("ExpiredToken", "RecordNotFound"...) of a failed call."""
    if response.is_success:
        return None
    name = _json(response).get("error")
    return name if isinstance(name, str) else None


def _answer(response: httpx.Response) -> str:
    """Status, XRPC error name and message, in one line."""
    data = _json(response)
    parts = [str(response.status_code)]
    for key in ("error", "message"):
        value = data.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    if len(parts) == 1:
        parts.append(response.reason_phrase)
    return " ".join(" ".join(parts).split())[:300]


def _never_sent(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
