"""Fixtures of the library tests: frozen time and a private MEDIA_ROOT."""

from __future__ import annotations

import pytest
import time_machine

from sizheng.library.tests.helpers import TODAY


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
