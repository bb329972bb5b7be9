"""Links, hashtags and mentions in a post's text, and Bluesky's facets for them: pure, no I/O.

Mastodon finds links in a status itself; Bluesky shows them as plain text unless the post carries
rich-text facets (`app.bsky.richtext.facet`), which `bluesky_facets` makes with UTF-8 byte
offsets. `BlueskyClient.post` calls it; `URL` and `trim_url` are also how
`alumni.social.text` finds the links Mastodon counts as 23 characters.

Example:
    >>> bluesky_facets("Reunión 🎉 #alumni")
    [{'index': {'byteStart': 14, 'byteEnd': 21}, 'features': [{'$type':
    'app.bsky.richtext.facet#tag', 'tag': 'alumni'}]}]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex

BLUESKY_TAG_MAX = 64

# An http(s) URL after a start, space or opening bracket, as Mastodon and Bluesky find them.
URL = regex.compile(r"(?<=^|[\s(\[{<\"'])https?://[^\s<>\"]+", regex.IGNORECASE)
# Trailing characters that end a sentence rather than a URL.
_URL_TAIL = regex.compile(r"[.,;:!?'\"]+$")
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


def trim_url(url: str) -> str:
    """A `URL` match without the sentence punctuation after it, or a ")" it did not open."""
    url = _URL_TAIL.sub("", url)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = _URL_TAIL.sub("", url[:-1])
    return url


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
    for match in URL.finditer(text):
        url = trim_url(match.group())
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


def _feature(kind: str, **fields: str) -> dict[str, str]:
    return {"$type": f"app.bsky.richtext.facet#{kind}", **fields}


def _bytes(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))
