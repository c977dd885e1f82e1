"""Test-wide setup: the test flag is set before Django's settings load."""

import os

os.environ.setdefault("SIZHENG_TESTING", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["sizheng.core.tests.browser"]
