"""``/healthz``: anonymous, no database, plain ``ok``, never cached."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_it_answers_ok_to_anyone_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_it_is_not_behind_the_login_and_carries_the_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_it_answers_head_and_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_signed_in_user_gets_ok_too(client):
    client.force_login(make_user("alice"))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
