"""Social post text as each network measures it: pure, no I/O.

- Mastodon (500): counts grapheme clusters, with every http(s) URL counted as 23 and a mention of
  someone on another server (`@ada@other.example`) counted as its user part (`@ada`), like
  Mastodon's `StatusLengthValidator`.
- Bluesky (300): counts grapheme clusters of the text as written (URLs in full), and at most 3,000
  UTF-8 bytes, like the `app.bsky.feed.post` lexicon. (Bluesky's facets, which make links,
  hashtags and mentions clickable, are built by its connector: `connectors.richtext`.)

Example:
    >>> check_length("bluesky", "Reunión 2015 🎉 https://example.org/r #alumni")
"""

from __future__ import annotations

import regex

from connectors.richtext import URL, trim_url

MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000

# Mastodon's Account::MENTION_RE: @user or @user@domain, not inside a word or URL.
_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@((?:[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?))(?:@[\w.-]+\w+)?",
    regex.IGNORECASE,
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
        countable = URL.sub(lambda m: _mastodon_url(m.group()), countable)
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


def _mastodon_url(url: str) -> str:
    trimmed = trim_url(url)
    return "x" * MASTODON_URL_LENGTH + url[len(trimmed) :]
