"""Post to a Mastodon account and read back how people answered.

Every post is sent with the `Idempotency-Key` header set to `SocialPost.key`: Mastodon answers a
repeated key with the status it already made instead of making another, so a post retried after a
timeout appears once. Mastodon remembers a key for one hour (a Redis entry in its
`PostStatusService`); a retry later than that can post twice.

`send_direct` sends a direct message: a status of visibility "direct" whose text begins with
the mention of the one account it is for (Mastodon delivers a direct status to the accounts it
mentions, and only to them), under the same `Idempotency-Key` rule as a post.

Classification of `post` and `send_direct`: 2xx is `sent`; 429 is `transient` with
`retry_after` from the `Retry-After` or `X-RateLimit-Reset` header; 5xx, timeouts and dropped
connections are `transient` (and `in_doubt` once the request may have arrived); any other answer
(3xx, 4xx) is `permanent`.

`engagement` also lists who favourited and who boosted (`favourited_by`, `reblogged_by`), 80
accounts a page, following the `Link: <...>; rel="next"` header on the same server only (the
access token goes with each page), up to `REACTION_CAP` accounts of each. Authors are full
`user@domain` addresses, the form an alum gives as their handle.

Example:
    >>> with MastodonClient("https://mastodon.example", token) as mastodon:
    ...     mastodon.verify()
    ...     receipt = mastodon.post(SocialPost("delivery-42", "Class of 2015: reunion on 18 Oct!"))
    ...     later = mastodon.engagement(receipt.remote_id)
    'alumni'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from connectors.mail import Closing
from connectors.secure_url import refuse_plain_http
from connectors.social import (
    REACTION_CAP,
    DirectMessage,
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

# An OAuth bearer token: visible ASCII only, so it can never break or leak through a header line.
_TOKEN = re.compile(r"[\x21-\x7e]+")
# The most accounts Mastodon gives in one page of favourited_by / reblogged_by.
_ACCOUNTS_PAGE = 80
_FIX_ACCESS = (
    "check the access token (Preferences > Development > your application; it needs the "
    "read:accounts and write:statuses scopes)"
)


class MastodonClient(Closing):
    """One Mastodon account, reached through its server's REST API.

    Args:
        base_url: the server, e.g. "https://mastodon.example"; http:// only to this machine.
        token: the account's OAuth access token; never shown by `repr` or in errors.
        client: an httpx client to send through (tests, proxies); None makes one, closed by
            `close`. Redirects are never followed either way.
        timeout: seconds to wait for the server at each step of a request.
    """

    name = "mastodon"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"Mastodon server URL {base_url!r} must be http(s)://host, e.g. "
                "https://mastodon.example"
            )
        refuse_plain_http(base_url, what="Mastodon server", carrying="access token")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(
                f"Mastodon server URL for {parts.hostname} must not have a user, ?query or "
                "#fragment: give only https://host"
            )
        if not _TOKEN.fullmatch(token):
            raise ValueError(
                f"Mastodon access token for {parts.hostname} is empty or has spaces or control "
                "characters; copy it again from the server's Development settings"
            )
        if timeout <= 0:
            raise ValueError(f"Mastodon timeout must be a positive number of seconds: {timeout}")
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.host = parts.hostname
        self.timeout = timeout
        self._token = token
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"MastodonClient(base_url={self.base_url!r}, token='***')"

    def close(self) -> None:
        """Close the httpx client if this object made it."""
        if self._own_client:
            self._client.close()

    def verify(self) -> str:
        """Check the server and the token.

        Returns:
            The account's `acct` (its user name on this server).

        Raises:
            SocialConnectError: the server is unreachable or refused the token, saying what to fix.
        """
        response = self._get("/api/v1/accounts/verify_credentials", "the account check")
        acct = _json_object(response).get("acct")
        if not isinstance(acct, str) or not acct:
            raise SocialConnectError(
                f"Mastodon server {self.host} answered verify_credentials without an acct; is "
                f"{self.base_url} a Mastodon server?"
            )
        return acct

    def post(self, post: SocialPost) -> PostReceipt:
        """Publish `post` as a public status.

        Returns:
            Its receipt; `remote_id` is the status id and `url` its web page when sent.
        """
        return self._status(post.key, post.text, "public", post.language)

    def send_direct(self, message: DirectMessage) -> PostReceipt:
        """Send `message` as a direct status that mentions its account first.

        Returns:
            Its receipt; `remote_id` is the status id and `url` its page when sent.
        """
        return self._status(message.key, message.addressed_text, "direct", message.language)

    def _status(self, key: str, text: str, visibility: str, language: str | None) -> PostReceipt:
        """POST one status under the idempotency `key`; what came of it, never raised."""
        body: dict[str, Any] = {"status": text, "visibility": visibility}
        if language:
            body["language"] = language
        try:
            response = self._client.post(
                f"{self.base_url}/api/v1/statuses",
                json=body,
                headers={**self._auth(), "Idempotency-Key": key},
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            return _lost(key, self.base_url, exc)
        return self._receipt(key, response)

    def engagement(self, remote_id: str) -> Engagement:
        """Favourites, boosts and replies of a status, and who favourited and boosted it.

        The counts are the server's; the reactions are the accounts it lists (`favourited_by`,
        `reblogged_by`), at most `REACTION_CAP` of each kind, with full `user@domain` authors.

        Args:
            remote_id: the status id from a `PostReceipt`.

        Raises:
            SocialConnectError: the status is gone, or the server could not be asked.
        """
        what = f"status {remote_id}"
        path = f"/api/v1/statuses/{quote(remote_id, safe='')}"
        status = _json_object(self._get(path, what))
        context = _json_object(self._get(f"{path}/context", what))
        favourited = self._accounts(f"{path}/favourited_by", f"the favourites of {what}")
        reblogged = self._accounts(f"{path}/reblogged_by", f"the boosts of {what}")
        try:
            likes = reactions_from_accounts("like", favourited, self.host)
            reposts = reactions_from_accounts("repost", reblogged, self.host)
            return engagement_from_json(
                remote_id, status, context, host=self.host, reactions=likes + reposts
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SocialConnectError(
                f"Mastodon server {self.host} answered {what} in an unexpected shape ({exc!r}); "
                "is it a Mastodon-compatible server?"
            ) from None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _accounts(self, path: str, what: str) -> list[Any]:
        """The accounts a paginated list at `path` gives, at most `REACTION_CAP` of them."""
        accounts: list[Any] = []
        url: str | None = f"{self.base_url}{path}"
        params: dict[str, int] | None = {"limit": _ACCOUNTS_PAGE}
        asked: set[str] = set()
        while url is not None and len(accounts) < REACTION_CAP:
            asked.add(url)
            response = self._get_url(url, what, params)
            try:
                page = response.json()
            except ValueError:
                page = None
            if not isinstance(page, list):
                raise SocialConnectError(
                    f"Mastodon server {self.host} answered {what} with something that is not a "
                    "list of accounts; is it a Mastodon-compatible server?"
                )
            if not page:
                break
            accounts.extend(page)
            url = self._next_page(response)
            params = None  # the next link carries its own query
            if url in asked:
                break
        return accounts[:REACTION_CAP]

    def _next_page(self, response: httpx.Response) -> str | None:
        """The `Link: rel="next"` URL, or None if there is none or it leaves this server.

        The access token goes with every page, so a link to another host, port or scheme is
        never followed: the reactions end there (the counts stay exact).
        """
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        try:
            target = response.request.url.join(link)
        except httpx.InvalidURL:
            return None
        base = httpx.URL(self.base_url)
        same_server = (target.scheme, target.host, target.port) == (
            base.scheme,
            base.host,
            base.port,
        )
        if not same_server or not target.path.startswith(f"{base.path.rstrip('/')}/"):
            return None
        return str(target)

    def _get(self, path: str, what: str) -> httpx.Response:
        """GET `path`, raising SocialConnectError unless the answer is 2xx."""
        return self._get_url(f"{self.base_url}{path}", what)

    def _get_url(
        self, url: str, what: str, params: Mapping[str, int] | None = None
    ) -> httpx.Response:
        """GET `url` on this server, raising SocialConnectError unless the answer is 2xx."""
        try:
            response = self._client.get(
                url,
                params=params,
                headers=self._auth(),
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise SocialConnectError(
                f"cannot reach Mastodon server {self.base_url} ({_describe(exc)}); check the URL "
                "and that the server is up",
                transient=True,
            ) from None
        if response.is_success:
            return response
        message = f"Mastodon server {self.host} answered {_answer(response)} for {what}"
        if response.status_code in (401, 403):
            raise SocialConnectError(f"{message}; {_FIX_ACCESS}")
        if response.status_code == 404:
            raise SocialConnectError(f"{message}; it may have been deleted")
        if response.is_redirect:
            raise SocialConnectError(
                f"{message} (redirect to {response.headers.get('location')}); use that server "
                "URL instead"
            )
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            raise SocialConnectError(message, transient=True, retry_after=wait)
        raise SocialConnectError(message, transient=response.status_code >= 500)

    def _receipt(self, key: str, response: httpx.Response) -> PostReceipt:
        code = response.status_code
        if response.is_success:
            try:
                status = _json_object(response)
                remote_id = str(status["id"])
            except (SocialConnectError, KeyError):
                # Accepted, maybe posted, but unreadable: the same key again will tell.
                reply = f"{code} but the answer is not a status; retry with the same key"
                return PostReceipt(key, Outcome.TRANSIENT, None, None, None, reply, in_doubt=True)
            url = status.get("url") or status.get("uri")
            return PostReceipt(
                key, Outcome.SENT, remote_id, url if isinstance(url, str) else None, None, f"{code}"
            )
        reply = _answer(response)
        if code == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            return PostReceipt(key, Outcome.TRANSIENT, None, None, wait, reply)
        if code >= 500:
            return PostReceipt(key, Outcome.TRANSIENT, None, None, None, reply, in_doubt=True)
        if code == 408:
            return PostReceipt(key, Outcome.TRANSIENT, None, None, None, reply)
        if code in (401, 403):
            reply = f"{reply}; {_FIX_ACCESS}"
        elif response.is_redirect:
            reply = (
                f"{reply} to {response.headers.get('location')}: redirects are not followed; "
                "set the Mastodon server URL to where it points"
            )
        return PostReceipt(key, Outcome.PERMANENT, None, None, None, reply)


def engagement_from_json(
    remote_id: str,
    status: dict[str, Any],
    context: dict[str, Any],
    *,
    host: str,
    reactions: tuple[Reaction, ...] = (),
) -> Engagement:
    """Build an `Engagement` from Mastodon's Status and Context JSON.

    Args:
        remote_id: the status asked about.
        status: the answer of GET /api/v1/statuses/:id.
        context: the answer of GET /api/v1/statuses/:id/context.
        host: the server's host name, for the address of local accounts (see `account_address`).
        reactions: who favourited and boosted, from `reactions_from_accounts`.

    Raises:
        KeyError, TypeError, ValueError: the JSON is not shaped like Mastodon's.
    """
    replies = tuple(
        SocialReply(
            remote_id=str(item["id"]),
            author=account_address(item["account"], host),
            text=text_from_html(str(item.get("content") or "")),
            url=item.get("url") or item.get("uri"),
            created_at=parse_when(item.get("created_at")),
        )
        for item in context["descendants"]
    )
    return Engagement(
        remote_id=remote_id,
        likes=int(status["favourites_count"]),
        reposts=int(status["reblogs_count"]),
        reply_count=int(status.get("replies_count", len(replies))),
        replies=replies,
        reactions=reactions,
    )


def reactions_from_accounts(
    kind: str, accounts: Iterable[Mapping[str, Any]], host: str
) -> tuple[Reaction, ...]:
    """Reactions of one kind from a list of Mastodon Account JSON objects.

    Args:
        kind: "like" for GET /api/v1/statuses/:id/favourited_by, "repost" for .../reblogged_by.
        accounts: that list (Mastodon gives no time for either, so `created_at` is None).
        host: the server's host name, for local accounts (see `account_address`).

    Returns:
        One `Reaction` per account, in the server's order.

    Raises:
        KeyError, TypeError, ValueError: an account is not shaped like Mastodon's, or `kind` is
            neither "like" nor "repost".
    """
    return tuple(Reaction(kind, account_address(account, host)) for account in accounts)


def account_address(account: Mapping[str, Any], host: str) -> str:
    """An account's full `user@domain` address, the form an alum gives as their handle.

    A remote account's `acct` already has its domain ("ada@other.example"). A local one's is
    bare ("ada"): it gets the host of its profile `url` (https://host/@ada), which is the
    server's public name, or else `host`. Domains are lower-cased; ports are left out.

    Args:
        account: a Mastodon Account JSON object (needs `acct`; `url` is used when present).
        host: the server's host name, when the account has no usable `url`.

    Raises:
        KeyError, TypeError, ValueError: there is no `acct`, or it is empty.
    """
    acct = account["acct"]
    if not isinstance(acct, str):
        raise TypeError(f"account acct is {type(acct).__name__}, not a string")
    user, sep, domain = acct.strip().lstrip("@").partition("@")
    if not user or (sep and not domain):
        raise ValueError(f"account acct {acct!r} is not user or user@domain")
    if not sep:
        domain = host
        url = account.get("url")
        if isinstance(url, str):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.hostname and parts.path.startswith("/@"):
                domain = parts.hostname
    return f"{user}@{domain.lower()}"


def text_from_html(content: str) -> str:
    """Mastodon's status HTML (`<p>`, `<br>`, links) as plain text: paragraphs, lines, words."""
    parser = _TextParser()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SocialConnectError(
            f"{response.request.url.host} answered {response.status_code} with something that "
            "is not a JSON object; is the URL a Mastodon server?"
        )
    return data


def _answer(response: httpx.Response) -> str:
    """The status code and the server's error message, in one line."""
    message = ""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = str(data.get("error_description") or data.get("error") or "")
    if not message:
        message = response.reason_phrase
    return f"{response.status_code} {' '.join(message.split())[:300]}".strip()


def _lost(key: str, base_url: str, exc: httpx.TransportError) -> PostReceipt:
    """The receipt when no answer came; in doubt unless the request surely never left."""
    never_sent = isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol
    )
    if never_sent:
        reply = f"cannot reach Mastodon server {base_url}: {_describe(exc)}"
    else:
        reply = (
            f"no answer from Mastodon server {base_url} ({_describe(exc)}): may have been posted; "
            "retry with the same key"
        )
    return PostReceipt(key, Outcome.TRANSIENT, None, None, None, reply, in_doubt=not never_sent)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
