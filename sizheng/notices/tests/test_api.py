"""The notices API: my notices, one notice (a post holder's read marks the org), signing; 404 outside."""

from __future__ import annotations

import pytest

from sizheng.core.models import AuditEvent
from sizheng.notices.models import OrgReceipt
from sizheng.notices.tests.conftest import draft, published

pytestmark = pytest.mark.django_db
API = "/api/v1/notices"


def test_it_lists_my_notices_and_shows_one(client, cast):
    notice = published(cast, audience=[cast.committee_a], requires_receipt=True)
    draft(cast, title="草稿")
    client.force_login(cast.member)
    body = client.get(API).json()
    assert body["count"] == 1 and body["items"][0]["id"] == notice.pk
    assert body["items"][0]["org_name"] == cast.root.name and body["items"][0]["state_label"] == "已发布"
    one = client.get(f"{API}/{notice.pk}").json()
    assert one["body"].startswith("各党组织") and one["my_receipts"] == [] and one["counts"] is None
    assert OrgReceipt.objects.get(notice=notice, org=cast.branch_a1).read_at is None
    client.force_login(cast.committee_admin)
    body = client.get(API, {"box": "issued", "state": "draft"}).json()
    assert [i["title"] for i in body["items"]] == ["草稿"]
    assert client.get(f"{API}/{notice.pk}").json()["counts"]["total"] == 3


def test_a_secretary_reads_and_signs_through_the_api(client, cast):
    notice = published(cast, requires_receipt=True)
    client.force_login(cast.secretary_a)
    one = client.get(f"{API}/{notice.pk}").json()
    assert [(r["org_id"], r["status"]) for r in one["my_receipts"]] == [(cast.branch_a1.pk, "read")]
    assert AuditEvent.objects.filter(action="notices_receipt_read", actor=cast.secretary_a).count() == 1
    response = client.post(f"{API}/{notice.pk}/receipt")
    assert response.status_code == 200 and response.json()[0]["status_label"] == "已签收"
    client.force_login(cast.member)
    response = client.post(f"{API}/{notice.pk}/receipt")
    assert response.status_code == 403 and "书记、党务干部" in response.json()["detail"]
    plain = published(cast, title="无需签收")
    client.force_login(cast.secretary_a)
    assert client.post(f"{API}/{plain.pk}/receipt").status_code == 422


def test_an_org_outside_the_audience_gets_404(client, cast):
    notice = published(cast, audience=[cast.committee_a, cast.general_b])
    client.force_login(cast.outsider)
    assert client.get(f"{API}/{notice.pk}").status_code == 404
    assert client.post(f"{API}/{notice.pk}/receipt").status_code == 404
    assert client.get(API).json()["count"] == 0


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {API, f"{API}/{{notice_id}}", f"{API}/{{notice_id}}/receipt"} <= set(paths)
