"""The one look of every page: its Jinja templates (package files under ``templates/``), its
colours, and the function that renders a page.

Every page extends ``page.html.j2``: ``lang`` set to the page's language, a title, the
office's name, one stylesheet inline (the Content-Security-Policy allows inline styles and no
scripts: the pages work without JavaScript). The colours are ``PALETTE``; every pair of text
and background the stylesheet uses is in ``TEXT_PAIRS`` and reaches a WCAG contrast of 4.5:1,
borders and the focus ring ``NON_TEXT_PAIRS`` 3:1 (``tests/web/test_look.py`` computes them).
Focus is always visible (a 3 px ring), every input has a ``<label for>``, every group of
choices a ``<fieldset>`` and ``<legend>``, and a field's problem sits beside it, tied to it by
``aria-describedby``.

Templates are autoescaped: text from the database or the office's settings is never markup.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from alumni.web.i18n import Words

__all__ = ["NON_TEXT_PAIRS", "PALETTE", "TEXT_PAIRS", "contrast", "render"]

PALETTE: Final = {
    "text": "#1b1b1b",
    "background": "#ffffff",
    "muted": "#4a4a4a",
    "link": "#0b57d0",
    "focus": "#0b57d0",
    "border": "#6b6b6b",
    "error": "#b3261e",
    "notice_text": "#0f5132",
    "notice_background": "#e6f4ea",
    "button_text": "#ffffff",
    "button_background": "#1b1b1b",
}
# (text colour, background colour) pairs the stylesheet uses.
TEXT_PAIRS: Final = (
    ("text", "background"),
    ("muted", "background"),
    ("link", "background"),
    ("error", "background"),
    ("notice_text", "notice_background"),
    ("button_text", "button_background"),
    ("text", "notice_background"),
)
# (colour, background) of what is not text but must be seen: field borders, the focus ring.
NON_TEXT_PAIRS: Final = (("border", "background"), ("focus", "background"), ("error", "background"))

_ENV = Environment(
    loader=PackageLoader("alumni.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def render(
    template: str, *, status: int, words: Words, office: str, title: str, **context: Any
) -> HTMLResponse:
    """Render ``templates/<template>`` in the one look and return it as the answer.

    Args:
        template: the page's template, e.g. ``message.html.j2``.
        status: the HTTP status.
        words: the page's language; templates call it as ``t("key")``.
        office: the office's name (title and footer).
        title: the page's heading.
        context: what the template shows.
    """
    html = _ENV.get_template(template).render(
        t=words, office=office, title=title, colours=PALETTE, **context
    )
    return HTMLResponse(html, status_code=status)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
