"""The settings of the web app's tests, read as `alumni serve` reads them, for each database."""

from __future__ import annotations

import pytest

from alumni.settings import Settings, get_settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return get_settings()


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return get_settings()
