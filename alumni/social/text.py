"""Social post text as each network measures and marks it up: pure, no I/O.

- Mastodon (500): counts grapheme clusters, with every http(s) URL counted as 23 and a mention of
  someone on another server (`@ada@other.example`) counted as its user part (`@ada`), like
  Mastodon's `StatusLengthValidator`.
- Bluesky (300): counts grapheme clusters of the text as written (URLs in full), and at most 3,000
  UTF-8 bytes, like the `app.bsky.feed.post` lexicon. Links, hashtags and mentions are only
  clickable with facets: `bluesky_facets` makes them, with UTF-8 byte offsets.

Example:
    >>> check_length("bluesky", "Reunión 2015 🎉 https://example.org/r #alumni")
    >>> bluesky_facets("Reunión 🎉 #alumni")
    [{'index': {'byteStart': 14, 'byteEnd': 21}, 'features': [{'$type':
    'app.bsky.richtext.facet#tag', 'tag': 'alumni'}]}]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex

MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000
BLUESKY_TAG_MAX = 64

# An http(s) URL after a start, space or opening bracket, as Mastodon and Bluesky find them.
_URL = regex.compile(r"(?<=^|[\s(\[{<\"'])https?://[^\s<>\"]+", regex.IGNORECASE)
# Trailing characters that end a sentence rather than a URL.
_URL_TAIL = regex.compile(r"[.,;:!?'\"]+$")
# Mastodon's Account::MENTION_RE: @user or @user@domain, not inside a word or URL.
_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@((?:[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?))(?:@[\w.-]+\w+)?",
    regex.IGNORECASE,
)
# Bluesky's tag rule (@atproto/api TAG_REGEX): # then a word that is not only digits.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(?<=^|\s)[#\uff03]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+[^\s{_INVISIBLE}]*)"
)
_TAG_TAIL = regex.compile(r"\p{P}+$")
# Bluesky's mention rule: @handle after a start, space or "(".
_BLUESKY_MENTION = regex.compile(r"(?<=^|\s|\()@([a-zA-Z0-9.-]+)\b")
_HANDLE = regex.compile(
    r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)


def graphemes(text: str) -> int:
    """How many user-perceived characters (extended grapheme clusters) `text` has."""
    return len(regex.findall(r"\X", text))


def length(network: str, text: str) -> int:
    """`text`'s length as `network` ("mastodon" or "bluesky") counts it against its limit.

    Raises:
        ValueError: for another network.
    """
    name = network.lower()
    if name == "mastodon":
        countable = _MASTODON_MENTION.sub(lambda m: f"@{m.group(1)}", text)
        countable = _URL.sub(lambda m: _mastodon_url(m.group()), countable)
        return graphemes(countable)
    if name == "bluesky":
        return graphemes(text)
    raise ValueError(f"social network {network!r} is not one of mastodon, bluesky")


def check_length(network: str, text: str) -> None:
    """Refuse a post that `network` would refuse for its length.

    Raises:
        ValueError: naming the network, the length and the limit, e.g. "Bluesky post is 312
            characters long; the limit is 300: shorten it by 12".
    """
    name = network.lower()
    count = length(name, text)
    limit = MASTODON_LIMIT if name == "mastodon" else BLUESKY_LIMIT
    if count > limit:
        how = " (each link counts as 23)" if name == "mastodon" else " (links count in full)"
        raise ValueError(
            f"{name.capitalize()} post is {count} characters long{how}; the limit is {limit}: "
            f"shorten it by {count - limit}"
        )
    if name == "bluesky" and len(text.encode("utf-8")) > BLUESKY_MAX_BYTES:
        size = len(text.encode("utf-8"))
        raise ValueError(
            f"Bluesky post is {size} bytes of UTF-8; the limit is {BLUESKY_MAX_BYTES}: shorten it"
        )


def bluesky_facets(
    text: str, *, resolve_handle: Callable[[str], str | None] | None = None
) -> list[dict[str, Any]]:
    """The rich-text facets that make links, hashtags and mentions in `text` work on Bluesky.

    Offsets are UTF-8 byte positions, as the `app.bsky.richtext.facet` lexicon wants.

    Args:
        text: the post's text.
        resolve_handle: turns a handle ("ada.bsky.social") into its DID, or None if unknown;
            without it, mentions stay plain text (a mention facet needs the DID).

    Returns:
        Facets sorted by position, each `{"index": {"byteStart", "byteEnd"}, "features": [...]}`
        with a `#link` (uri), `#tag` (tag, without "#") or `#mention` (did) feature.
    """
    found: list[tuple[int, int, dict[str, str]]] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        found.append((match.start(), match.start() + len(url), _feature("link", uri=url)))
    for match in _TAG.finditer(text):
        tag = _TAG_TAIL.sub("", match.group(1))
        if not tag or len(tag) > BLUESKY_TAG_MAX:
            continue
        # The facet covers the "#" too; its feature names the tag without it.
        found.append((match.start(), match.start(1) + len(tag), _feature("tag", tag=tag)))
    if resolve_handle is not None:
        for match in _BLUESKY_MENTION.finditer(text):
            handle = match.group(1).rstrip(".")
            if not _HANDLE.fullmatch(handle):
                continue
            did = resolve_handle(handle)
            if did:
                end = match.start(1) + len(handle)
                found.append((match.start(), end, _feature("mention", did=did)))
    facets: list[dict[str, Any]] = []
    taken_until = 0
    for start, end, feature in sorted(found, key=lambda item: item[0]):
        if start < taken_until:  # facets must not overlap: the first one wins
            continue
        taken_until = end
        facets.append(
            {
                "index": {"byteStart": _bytes(text, start), "byteEnd": _bytes(text, end)},
                "features": [feature],
            }
        )
    return facets


def _mastodon_url(url: str) -> str:
    trimmed = _trim_url(url)
    return "x" * MASTODON_URL_LENGTH + url[len(trimmed) :]


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a ")" that closes a bracket opened before it."""
    url = _URL_TAIL.sub("", url)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = _URL_TAIL.sub("", url[:-1])
    return url


def _feature(kind: str, **fields: str) -> dict[str, str]:
    return {"$type": f"app.bsky.richtext.facet#{kind}", **fields}


def _bytes(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))
