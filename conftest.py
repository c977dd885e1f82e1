"""Test-wide setup: the test flag is set before Django's settings load."""

import os

os.environ.setdefault("SIZHENG_TESTING", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["sizheng.core.tests.browser"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """A Holiday row from a rolled-back test must not linger in the per-process calendar cache."""
    from django.core.cache import cache

    from sizheng.core.calendar import clear_calendar_cache

    clear_calendar_cache()
    cache.clear()  # API throttle counts live in the cache
    yield
    clear_calendar_cache()


@pytest.fixture(autouse=True, scope="session")
def _metric_target_factories():
    """Real orgs and units for the generic metric query-count test."""
    from sizheng.core import metrics
    from sizheng.org.testing import org_targets, unit_targets

    metrics.TARGET_FACTORIES.update({"org": org_targets, "unit": unit_targets})


@pytest.fixture
def cast(db):
    """The persona cast of ARCHITECTURE §8 (see sizheng/org/testing.py)."""
    from sizheng.org.testing import build_cast

    return build_cast()
