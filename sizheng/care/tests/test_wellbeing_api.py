"""POST /api/v1/wellbeing/screenings: the caller's own screening, anonymous by default."""

from __future__ import annotations

import pytest

from sizheng.care import wellbeing
from sizheng.care.models import AnonymousScreening, CrisisAlert, Screening
from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db
URL = "/api/v1/wellbeing/screenings"


def _post(client, user, **data):
    client.force_login(user)
    return client.post(URL, data, content_type="application/json")


def test_it_scores_an_anonymous_screening_and_returns_the_deletion_code_once(client, cast):
    audits = AuditEvent.objects.count()
    r = _post(client, cast.member, instrument="phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 1], consent=True)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["score"], body["band"], body["band_label"], body["crisis"], body["anonymous"]) == (
        1, "minimal", "无/极轻微", True, True
    )  # fmt: skip
    assert body["item9_positive"] and body["resources"]["hotline"] == "12356"
    assert body["resources"]["hotline_label"] == "全国心理援助热线" and body["resources"]["local"]
    assert len(body["deletion_code"]) == 19 and "screening_id" not in body
    assert not Screening.objects.exists() and not CrisisAlert.objects.exists()
    assert AuditEvent.objects.count() == audits and not Notification.objects.exists()
    assert wellbeing.anonymous_screening_delete(actor=cast.member, code=body["deletion_code"])


def test_it_stores_a_named_screening_without_a_deletion_code(client, cast):
    answers = [3, 3, 3, 3, 3, 3, 3]
    r = _post(client, cast.secretary_a, instrument="gad7", answers=answers, anonymous=False, consent=True)
    assert r.status_code == 201, r.content
    body = r.json()
    s = Screening.objects.get()
    assert body["screening_id"] == s.pk and "deletion_code" not in body
    assert (body["score"], body["band"], body["crisis"]) == (21, "severe", True)
    assert s.person == cast.person(cast.secretary_a)
    assert CrisisAlert.objects.get().counselor == cast.counselor
    assert AuditEvent.objects.filter(action="screening_submit", actor=cast.secretary_a).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"instrument": "phq9", "answers": [0] * 9}, "勾选同意"),
        ({"instrument": "phq9", "answers": [0] * 9, "consent": False}, "勾选同意"),
        ({"instrument": "phq9", "answers": [0] * 7, "consent": True}, "共有 9 题"),
        ({"instrument": "gad7", "answers": [0, 0, 0, 0, 0, 0, 4], "consent": True}, "第 7 题"),
        ({"instrument": "bdi", "answers": [0] * 9, "consent": True}, "取值不在允许的范围内"),
        ({"answers": [0] * 9, "consent": True}, "必填"),
    ],
)
def test_it_answers_422_without_consent_or_with_bad_answers(client, cast, data, message):
    r = _post(client, cast.member, **data)
    assert r.status_code == 422
    body = r.json()
    assert message in body["detail"] + "".join(e["message"] for e in body["errors"])
    assert not Screening.objects.exists() and not AnonymousScreening.objects.exists()
    assert not wellbeing.anon_store.waves_pending("wellbeing")


def test_it_refuses_an_account_without_a_person_and_anonymous_callers(client, cast):
    r = _post(client, cast.counselor, instrument="phq9", answers=[0] * 9, consent=True)
    assert r.status_code == 403 and "没有关联人员信息" in r.json()["detail"]
    client.logout()
    r = client.post(
        URL, {"instrument": "phq9", "answers": [0] * 9, "consent": True}, content_type="application/json"
    )
    assert r.status_code == 401


def test_it_works_with_a_token_and_has_no_list_endpoint(client, cast):
    _, raw = api_token_issue(actor=cast.member)
    r = client.post(
        URL,
        {"instrument": "gad7", "answers": [1] * 7, "consent": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 201 and r.json()["band"] == "mild"
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 405
