"""The one look: colours that everyone can read (WCAG contrast), computed from the palette the
stylesheet is written with, and the stylesheet's use of every colour."""

from __future__ import annotations

import pytest

from alumni.web.i18n import words_for
from alumni.web.look import NON_TEXT_PAIRS, PALETTE, TEXT_PAIRS, contrast, render


def test_the_contrast_formula_matches_wcags_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA threshold grey


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_reaches_a_contrast_of_4_5(text: str, background: str) -> None:
    assert contrast(PALETTE[text], PALETTE[background]) >= 4.5


@pytest.mark.parametrize(("colour", "background"), NON_TEXT_PAIRS)
def test_borders_and_the_focus_ring_reach_a_contrast_of_3(colour: str, background: str) -> None:
    assert contrast(PALETTE[colour], PALETTE[background]) >= 3


def test_the_stylesheet_uses_only_the_palettes_colours_and_shows_focus() -> None:
    page = render(
        "message.html.j2",
        status=200,
        words=words_for("es"),
        office="Oficina",
        title="Título",
        text="Texto",
    ).body.decode()
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    used = {style[i : i + 7] for i in range(len(style)) if style[i] == "#"}
    assert used == set(PALETTE.values())
    assert f":focus-visible,input:focus-within{{outline:3px solid {PALETTE['focus']}" in style
    assert page.startswith('<!doctype html>\n<html lang="es">')
