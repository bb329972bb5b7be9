"""Turn an HTML mail body into plain text, so an HTML-only reply can be read like any other.

Blocks become lines, ``<blockquote>`` lines are quoted with ``> `` (the quoted history a reply
parser strips), and scripts, styles and the head are dropped.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCKS = frozenset(
    {"address", "article", "aside", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3"}
    | {"h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td"}
    | {"th", "tr", "ul"}
)
_HIDDEN = frozenset({"head", "script", "style", "title"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self._current: list[str] = []
        self._quote = 0
        self._hidden = 0

    def _break(self) -> None:
        text = " ".join("".join(self._current).split())
        self.lines.append((self._quote, text))
        self._current = []

    def finish(self) -> None:
        """Close the last line."""
        self._break()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "blockquote":
            self._break()
            self._quote += 1
        elif tag in _BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "blockquote":
            self._break()
            self._quote = max(0, self._quote - 1)
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._current.append(data)


def html_to_text(markup: str) -> str:
    """Return the text of an HTML document, one line per block, blank lines collapsed."""
    collector = _TextCollector()
    with contextlib.suppress(Exception):  # lenient already; keep what was read before an odd bit
        collector.feed(markup)
        collector.close()
    collector.finish()
    out: list[str] = []
    for depth, text in collector.lines:
        line = ("> " * depth + text) if text else ""
        if line or (out and out[-1]):
            out.append(line)
    result = "\n".join(out).strip()
    return re.sub(r"\n{3,}", "\n\n", result)
