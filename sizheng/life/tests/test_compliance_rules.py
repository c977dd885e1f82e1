"""Rules as data on screen: the list, a stricter local rule, deactivating a national default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.life.models import ComplianceRule

pytestmark = [pytest.mark.django_db, pytest.mark.urls("sizheng.life.tests.test_compliance_views")]


def _local(**changes) -> dict:
    data = {"code": "loc-mtg-1", "label": "党员大会每季度至少召开2次", "activity": "members_meeting",
            "org_kinds": ["branch"], "count": 2, "period": "quarter", "within": "", "severity": "warning",
            "source": "市直机关工委《关于加强党支部建设的意见》", "scope_org": "", "effective_from": "",
            "effective_to": "", "is_active": "on"}  # fmt: skip
    data.update(changes)
    return data


def test_it_lists_the_national_defaults_with_their_sources_read_only_for_a_member(client, cast):
    client.force_login(cast.member)
    response = client.get(reverse("life:rules"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "BR-OLM-1" in html
        and "组织生活会每年至少召开1次" in html
        and "《中国共产党支部工作条例（试行）》" in html
    )
    assert "新增本地规则</a>" not in html
    assert client.get(reverse("life:rule_create")).status_code == 403
    assert client.post(reverse("life:rule_create"), _local()).status_code == 403
    assert not ComplianceRule.objects.filter(code="LOC-MTG-1").exists()


def test_it_adds_a_stricter_local_rule_scoped_to_a_subtree_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    assert client.get(reverse("life:rule_create")).status_code == 200
    response = client.post(reverse("life:rule_create"), _local(scope_org=cast.committee_a.pk))
    assert response.status_code == 302 and response["Location"] == reverse("life:rules")
    row = ComplianceRule.objects.get(code="LOC-MTG-1")
    assert row.is_local and row.count == 2 and row.org_kinds == "branch" and row.scope_org == cast.committee_a
    assert AuditEvent.objects.filter(action="compliance_rule_create", object_id=str(row.pk)).exists()
    assert "LOC-MTG-1" in client.get(reverse("life:rules")).content.decode()


def test_it_turns_the_rule_engines_refusal_into_a_chinese_form_error(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(reverse("life:rule_create"), _local(within="Q4"))
    assert response.status_code == 422
    assert "限定时段只能用于“每年”的规则" in response.content.decode()
    bad_dates = client.post(
        reverse("life:rule_create"), _local(effective_from="2026-05-01", effective_to="2026-01-01")
    )
    assert bad_dates.status_code == 422 and "失效日期不能早于生效日期。" in bad_dates.content.decode()
    taken = client.post(reverse("life:rule_create"), _local(code="BR-MTG-1"))
    assert taken.status_code == 422 and "该规则编号已被使用" in taken.content.decode()
    assert not ComplianceRule.objects.filter(is_local=True, label="党员大会每季度至少召开2次").exists()


def test_it_deactivates_a_national_default_without_changing_its_content(client, cast):
    row = ComplianceRule.objects.get(code="BR-MTG-2")
    client.force_login(cast.committee_admin)
    url = reverse("life:rule_edit", args=[row.pk])
    assert client.get(url).status_code == 200
    data = {"code": row.code, "label": "改掉", "activity": row.activity, "org_kinds": ["branch"], "count": 9,
            "period": row.period, "within": "", "severity": row.severity, "source": "改掉", "scope_org": ""}  # fmt: skip
    response = client.post(url, data)  # is_active unchecked
    assert response.status_code == 302
    row.refresh_from_db()
    assert not row.is_active and row.count == 1 and row.label == "支委会一般每月召开1次"
    event = AuditEvent.objects.get(action="compliance_rule_update", object_id=str(row.pk))
    assert event.detail["fields"] == ["is_active"]
    assert client.delete(url).status_code == 405
    assert ComplianceRule.objects.filter(pk=row.pk).exists()


def test_it_edits_a_local_rule_and_refuses_others(client, cast):
    row = ComplianceRule.objects.create(code="LOC-X", activity="theme_day", org_kinds="branch", count=2,
                                        period="month", severity="warning", label="主题党日每月2次",
                                        source="本地规定", is_local=True)  # fmt: skip
    url = reverse("life:rule_edit", args=[row.pk])
    client.force_login(cast.secretary_a)
    assert client.post(url, _local(code="LOC-X")).status_code == 403
    client.force_login(cast.committee_admin)
    response = client.post(url, _local(code="LOC-X", activity="theme_day", period="month", count=3))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.count == 3 and row.code == "LOC-X"
    assert client.get(reverse("life:rule_edit", args=[999999])).status_code == 404
