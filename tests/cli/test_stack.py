"""The stack's client asks a busy Prefect server again (503), and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from alumni.cli.stack import _patiently


def asker(codes: list[int]) -> tuple[list[int], Callable[[], httpx.Response]]:
    asked: list[int] = []

    def ask() -> httpx.Response:
        asked.append(1)
        return httpx.Response(codes[len(asked) - 1])

    return asked, ask


def test_a_busy_server_is_asked_again_until_it_answers() -> None:
    asked, ask = asker([503, 503, 201])
    assert _patiently(ask).status_code == 201
    assert len(asked) == 3


def test_any_other_answer_is_returned_at_once() -> None:
    asked, ask = asker([500, 201])
    assert _patiently(ask).status_code == 500
    assert len(asked) == 1


def test_a_server_busy_for_too_long_gets_its_last_answer_returned() -> None:
    asked, ask = asker([503] * 3)
    assert _patiently(ask, tries=3).status_code == 503
    assert len(asked) == 3
