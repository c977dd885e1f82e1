"""The register screens: list, export, new, edit, end, coverage, gap → duty, rules — access, writes, counts."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from sizheng.duties.models import Duty, SourceKind
from sizheng.org.testing import make_person
from sizheng.team import coverage
from sizheng.team.models import CoverageRule, Subtype, TeamMember, TeamRole
from sizheng.team.tests.helpers import audited, enlist, fill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _new(cast, **over):
    data = {"org": cast.branch_a1.pk, "person": cast.person(cast.member).pk, "role": TeamRole.BACKBONE,
            "subtype": Subtype.YOUNG_CADRE, "is_full_time": "0", "position": "青年理论学习骨干",
            "covers": [cast.branch_a1.pk], "qualifications": "市委党校中青年干部培训班结业\n\n心理健康教育指导员",
            "since": "2026-03-01"}  # fmt: skip
    data.update(over)
    return data


# --- the register ----------------------------------------------------------------------------------


def test_it_registers_a_team_member_with_audit(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("team:create")
    page = client.get(url)
    assert page.status_code == 200 and "刘洋" in page.content.decode()  # A1's people are offered
    assert "李红梅" not in page.content.decode()  # B1's are not
    response = client.post(url, _new(cast))
    member = TeamMember.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("team:detail", args=[member.pk])
    assert (
        member.role == TeamRole.BACKBONE and member.subtype == Subtype.YOUNG_CADRE and not member.is_full_time
    )
    assert member.qualification_list == ["市委党校中青年干部培训班结业", "心理健康教育指导员"]
    assert list(member.covers.values_list("pk", flat=True)) == [cast.branch_a1.pk]
    assert audited("team_member_create", member)


def test_it_refuses_bad_input_with_a_sentence(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("team:create")
    wrong = client.post(url, _new(cast, role=TeamRole.PARTY_CADRE))
    assert wrong.status_code == 422 and "只有思政骨干需要选择骨干类型" in wrong.content.decode()
    missing = client.post(url, _new(cast, covers=[]))
    assert missing.status_code == 422 and "请至少选择一个负责的党组织" in missing.content.decode()
    assert client.post(url, _new(cast)).status_code == 302
    again = client.post(url, _new(cast))
    assert again.status_code == 422 and "请直接修改原记录" in again.content.decode()
    assert TeamMember.objects.count() == 1


def test_it_answers_404_outside_scope_and_403_read_only_and_405(client, cast):
    client.force_login(cast.secretary_a)
    assert client.post(reverse("team:create"), _new(cast, org=cast.branch_b1.pk)).status_code == 404
    assert client.put(reverse("team:create")).status_code == 405
    client.force_login(cast.member)
    assert client.get(reverse("team:create")).status_code == 403
    assert client.post(reverse("team:create"), _new(cast)).status_code == 403  # sees A1, does not keep it
    client.force_login(cast.outsider)
    assert client.get(reverse("team:create"), {"org": cast.branch_a1.pk}).status_code == 404
    member = enlist(cast, cast.member)
    assert client.get(reverse("team:detail", args=[member.pk])).status_code == 404
    assert client.get(reverse("team:edit", args=[member.pk])).status_code == 404
    assert client.post(reverse("team:end", args=[member.pk]), {"until": "2026-11-20"}).status_code == 404
    client.force_login(cast.union)  # no person, no register of its own
    assert client.get(reverse("team:members")).status_code == 403
    assert not TeamMember.objects.exclude(pk=member.pk).exists()


def test_it_edits_with_compare_and_swap(client, cast):
    member = enlist(cast, cast.member)
    url = reverse("team:edit", args=[member.pk])
    data = {"role": TeamRole.PARTY_CADRE, "subtype": "", "is_full_time": "1", "position": "支部专职党务干部",
            "covers": [cast.branch_a1.pk], "qualifications": "", "since": "2025-01-01", "version": member.version}  # fmt: skip
    client.force_login(cast.member)
    assert client.get(url).status_code == 403  # their own entry: read-only
    client.force_login(cast.org_admin)
    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.is_full_time and member.position == "支部专职党务干部" and member.version == 2
    assert audited("team_member_update", member)
    stale = client.post(url, {**data, "position": "旧的"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    outside = client.post(url, {**data, "version": 2, "covers": [cast.branch_b1.pk]})
    assert outside.status_code == 422
    member.refresh_from_db()
    assert member.position == "支部专职党务干部"


def test_it_ends_a_membership_after_confirmation(client, cast):
    member = enlist(cast, cast.member, since=date(2025, 3, 1))
    url = reverse("team:end", args=[member.pk])
    client.force_login(cast.secretary_a)
    page = client.get(url)
    assert page.status_code == 200 and "确定要终止" in page.content.decode()
    early = client.post(url, {"until": "2025-01-01", "reason": "", "version": member.version})
    assert early.status_code == 422 and "终止日期不能早于起始日期" in early.content.decode()
    response = client.post(url, {"until": "2026-10-31", "reason": "岗位调整", "version": member.version})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.until == date(2026, 10, 31) and member.end_reason == "岗位调整"
    assert audited("team_member_end", member)
    assert client.post(url, {"until": "2026-11-01", "version": member.version}).status_code == 409
    assert client.get(reverse("team:edit", args=[member.pk])).status_code == 409
    listed = client.get(reverse("team:members"), {"state": "ended"}).content.decode()
    assert "已于 2026-10-31 终止" in listed


def test_it_lists_the_register_with_filters_and_a_flat_query_count(
    client, cast, django_assert_max_num_queries
):
    enlist(cast, cast.member)
    client.force_login(cast.committee_admin)
    url = reverse("team:members")
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    for i in range(12):
        person = make_person(f"骨干{i}", cast.unit_a, org=cast.branch_a2)
        enlist(cast, person=person, org=cast.committee_a, role=TeamRole.BACKBONE,
               covers=[cast.committee_a, cast.branch_a2])  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert "骨干11" in body and "刘洋" in body
    filtered = client.get(url, {"role": TeamRole.PARTY_CADRE}).content.decode()
    assert "刘洋" in filtered and "骨干3" not in filtered
    assert "骨干3" in client.get(url, {"q": "骨干3"}).content.decode()
    assert "刘洋" not in client.get(url, {"org": cast.branch_a2.pk}).content.decode()
    assert client.get(url, {"org": 999999}).status_code == 404


def test_it_shows_secretaries_their_subtree_and_members_only_themselves(client, cast):
    own = enlist(cast, cast.member)
    other = enlist(cast, cast.secretary_b, org=cast.branch_b1, actor=cast.secretary_b)
    client.force_login(cast.secretary_a)
    body = client.get(reverse("team:members")).content.decode()
    assert "刘洋" in body and "李红梅" not in body
    client.force_login(cast.member)
    body = client.get(reverse("team:members")).content.decode()
    assert "我的队伍档案" in body and "刘洋" in body and "导出 Excel" not in body
    assert client.get(reverse("team:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("team:detail", args=[own.pk])).status_code == 200


def test_it_exports_the_register_to_excel_with_audit(client, cast):
    enlist(cast, cast.member)
    client.force_login(cast.secretary_a)
    response = client.get(reverse("team:export"), {"role": TeamRole.PARTY_CADRE})
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert audited("team_register_export")
    client.force_login(cast.member)
    assert client.get(reverse("team:export")).status_code == 403


# --- coverage, gaps → duties, rules ---------------------------------------------------------------


def test_it_shows_coverage_and_aggregates_without_names_to_a_leader(client, cast):
    fill(cast.branch_a2, cast.unit_a, 50)
    enlist(cast, cast.org_admin, org=cast.committee_a, full_time=True)
    client.force_login(cast.leader)
    page = client.get(reverse("team:coverage"))
    body = page.content.decode()
    assert page.status_code == 200 and cast.committee_a.name in body and "已配备" in body
    assert "赵敏" not in body  # counts only
    assert cast.branch_b1.name not in body  # another unit
    assert "转为督办事项" not in body  # a leader opens no duties
    client.force_login(cast.member)
    assert client.get(reverse("team:coverage")).status_code == 403
    client.force_login(cast.secretary_a)
    assert client.get(reverse("team:coverage"), {"org": cast.branch_b1.pk}).status_code == 404


def test_it_renders_coverage_in_flat_queries(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    url = reverse("team:coverage")
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    fill(cast.branch_a2, cast.unit_a, 60)
    for i in range(8):
        enlist(cast, person=make_person(f"骨干{i}", cast.unit_a, org=cast.branch_a2), org=cast.branch_a2,
               role=TeamRole.BACKBONE)  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "违规" in client.get(url).content.decode()


def test_it_turns_a_gap_into_a_duty_in_one_click_once(client, cast):
    fill(cast.branch_a2, cast.unit_a, 50)
    url = reverse("team:gap_duty")
    data = {"org": cast.committee_a.pk, "rule": coverage.TEAM_1}
    client.force_login(cast.committee_admin)
    assert client.get(url).status_code == 405
    body = client.get(reverse("team:coverage")).content.decode()
    assert "转为督办事项" in body
    response = client.post(url, data)
    duty = Duty.objects.get(source_kind=SourceKind.TEAM)
    assert response.status_code == 302 and response["Location"] == reverse("duties:detail", args=[duty.pk])
    assert duty.title == "配备专职党务干部" and audited("team_gap_duty_open")
    assert client.post(url, data)["Location"] == response["Location"]
    assert Duty.objects.filter(source_kind=SourceKind.TEAM).count() == 1
    assert "已转为督办事项" in client.get(reverse("team:coverage")).content.decode()
    none = client.post(url, {"org": cast.branch_a1.pk, "rule": coverage.TEAM_1})
    assert none.status_code == 422 and "无需部署事项" in none.content.decode()
    assert client.post(url, {"org": cast.branch_a2.pk, "rule": "NOPE"}).status_code == 422
    client.force_login(cast.member)
    assert client.post(url, {"org": cast.branch_a1.pk, "rule": "TEAM-2"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"org": cast.branch_a1.pk, "rule": "TEAM-2"}).status_code == 404


def test_it_lets_only_the_committee_admin_change_a_rule(client, cast):
    rule = CoverageRule.objects.get(code=coverage.TEAM_1)
    url = reverse("team:rule_edit", args=[rule.pk])
    data = {"min_members": 80, "count": 1, "severity": "warning", "is_active": "on", "version": rule.version}
    client.force_login(cast.secretary_a)
    assert client.get(reverse("team:rules")).status_code == 200
    assert client.post(url, data).status_code == 403
    client.force_login(cast.member)
    assert client.get(reverse("team:rules")).status_code == 403
    client.force_login(cast.committee_admin)
    assert client.post(url, {**data, "count": 0}).status_code == 422
    assert client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.min_members == 80 and rule.severity == "warning" and rule.version == 2
    assert audited("team_rule_update", rule)
    assert client.post(url, data).status_code == 409
