"""The org page and its writes: edit, create a child, 任命, 离任 and 换届."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sizheng.core.models import AuditEvent, Role, RoleGrant
from sizheng.org import access
from sizheng.org.models import Org, OrgRole

pytestmark = pytest.mark.django_db


def _edit_data(org: Org, **changes) -> dict:
    data = {
        "name": org.name, "category": org.category, "relation": org.relation, "units": [u.pk for u in org.units.all()],
        "founded_on": "2010-01-01", "dissolved_on": "", "term_starts_on": "2024-06-01", "term_ends_on": "2027-05-31",
        "contact": "", "version": org.version,
    }  # fmt: skip
    data.update(changes)
    return data


def _audited(action: str, obj) -> bool:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).exists()


# --- the org page ----------------------------------------------------------------------------


def test_it_shows_the_org_page_with_posts_and_actions_to_a_manager(client, cast):
    client.force_login(cast.secretary_a)
    response = client.get(reverse("org:org_detail", args=[cast.branch_a1.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "中共市财政局机关第一支部委员会" in html
    assert "王建国" in html and "赵敏" in html  # current posts with names
    assert reverse("org:org_edit", args=[cast.branch_a1.pk]) in html
    assert reverse("org:org_handover", args=[cast.branch_a1.pk]) in html
    assert f"{reverse('org:people')}?org={cast.branch_a1.pk}" in html


def test_it_shows_the_org_page_read_only_to_a_member_and_a_leader(client, cast):
    for user in (cast.member, cast.leader):
        client.force_login(user)
        response = client.get(reverse("org:org_detail", args=[cast.branch_a1.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert reverse("org:org_edit", args=[cast.branch_a1.pk]) not in html
        assert reverse("org:org_role_assign", args=[cast.branch_a1.pk]) not in html
        assert "王建国" in html


def test_it_hides_an_org_outside_scope_with_404(client, cast):
    client.force_login(cast.secretary_b)
    assert client.get(reverse("org:org_detail", args=[cast.branch_a1.pk])).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(reverse("org:org_detail", args=[cast.branch_b1.pk])).status_code == 404


def test_it_lists_past_posts_after_they_end(client, cast):
    post = OrgRole.objects.get(org=cast.branch_a1, title=OrgRole.Title.PARTY_AFFAIRS)
    OrgRole.objects.filter(pk=post.pk).update(ends_on=date(2025, 1, 31))
    client.force_login(cast.committee_admin)
    html = client.get(reverse("org:org_detail", args=[cast.branch_a1.pk])).content.decode()
    history = html.split("历任委员")[1]
    assert "赵敏" in history and "2025-01-31" in history


# --- edit ------------------------------------------------------------------------------------


def test_it_saves_an_org_edit_with_audit(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("org:org_edit", args=[cast.branch_a1.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _edit_data(cast.branch_a1, contact="王建国 12345678"))
    assert response.status_code == 302
    org = Org.objects.get(pk=cast.branch_a1.pk)
    assert org.contact == "王建国 12345678" and org.version == 2
    assert _audited("org_update", org)


def test_it_answers_405_404_and_403_on_org_edit(client, cast):
    url = reverse("org:org_edit", args=[cast.branch_a1.pk])
    client.force_login(cast.secretary_a)
    assert client.put(url).status_code == 405
    client.force_login(cast.secretary_b)
    assert client.post(url, _edit_data(cast.branch_a1)).status_code == 404
    for user in (cast.member, cast.leader):
        client.force_login(user)
        assert client.post(url, _edit_data(cast.branch_a1, contact="x")).status_code == 403
    assert Org.objects.get(pk=cast.branch_a1.pk).contact == ""


def test_it_rejects_a_bad_org_edit_with_422_and_a_chinese_message(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("org:org_edit", args=[cast.branch_a1.pk])
    response = client.post(url, _edit_data(cast.branch_a1, term_ends_on="2024-01-01"))
    assert response.status_code == 422
    assert "任期届满日期必须晚于任期开始日期。" in response.content.decode()
    too_many = [cast.unit_a.pk, cast.unit_b.pk, cast.unit_c.pk]
    for i in range(3):
        too_many.append(type(cast.unit_a).objects.create(name=f"单位{i}", code=f"X{i}").pk)
    response = client.post(url, _edit_data(cast.branch_a1, units=too_many))
    assert response.status_code == 422
    assert "最多覆盖 5 个单位" in response.content.decode()
    assert Org.objects.get(pk=cast.branch_a1.pk).version == 1


def test_it_answers_409_to_a_stale_org_edit_and_keeps_the_form(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("org:org_edit", args=[cast.branch_a1.pk])
    assert client.post(url, _edit_data(cast.branch_a1, contact="第一次")).status_code == 302
    response = client.post(url, _edit_data(cast.branch_a1, contact="第二次", version=1))
    assert response.status_code == 409
    html = response.content.decode()
    assert "该党组织已被他人修改，请刷新页面后重新填写。" in html
    assert "第二次" in html
    assert Org.objects.get(pk=cast.branch_a1.pk).contact == "第一次"


def test_it_does_not_let_a_secretary_attach_a_unit_outside_their_scope(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("org:org_edit", args=[cast.branch_a1.pk])
    response = client.post(url, _edit_data(cast.branch_a1, units=[cast.unit_a.pk, cast.unit_b.pk]))
    assert response.status_code == 422
    assert list(cast.branch_a1.units.all()) == [cast.unit_a]


# --- create a child org ----------------------------------------------------------------------


def _create_data(**changes) -> dict:
    data = {"name": "市财政局机关第一支部第一党小组", "kind": Org.Kind.GROUP, "code": "A1-G1", "category": "党政机关",
            "relation": Org.Relation.SAME_UNIT, "term_starts_on": "", "term_ends_on": "", "founded_on": "2025-03-01",
            "dissolved_on": "", "contact": ""}  # fmt: skip
    data.update(changes)
    return data


def test_it_creates_a_child_org_under_a_managed_org(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("org:org_create", args=[cast.branch_a1.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _create_data(units=[cast.unit_a.pk]))
    assert response.status_code == 302
    group = Org.objects.get(code="A1-G1")
    assert group.parent == cast.branch_a1 and group.path.startswith(cast.branch_a1.path)
    assert _audited("org_create", group)
    assert access.manages_org(cast.secretary_a, group)


def test_it_refuses_bad_or_unauthorised_child_orgs(client, cast):
    url = reverse("org:org_create", args=[cast.branch_a1.pk])
    client.force_login(cast.secretary_a)
    assert client.put(url).status_code == 405
    response = client.post(url, _create_data(code="A2"))
    assert response.status_code == 422
    assert "该组织代码已被其他党组织使用" in response.content.decode()
    response = client.post(url, _create_data(kind=Org.Kind.BRANCH))
    assert response.status_code == 422  # a 党支部 cannot sit under a 党支部
    client.force_login(cast.member)
    assert client.post(url, _create_data()).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, _create_data()).status_code == 404
    assert not Org.objects.filter(code="A1-G1").exists()


def test_it_answers_409_for_a_child_under_a_leading_group(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("org:org_create", args=[cast.leading_a.pk]))
    assert response.status_code == 409
    assert "不能再设立下级党组织" in response.content.decode()


# --- 任命 / 离任 ------------------------------------------------------------------------------


def test_it_appoints_a_member_to_a_post_and_grants_the_role(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("org:org_role_assign", args=[cast.branch_a1.pk])
    page = client.get(url).content.decode()
    assert 'name="person_q"' in page and "刘洋" not in page  # a picker, not a select of the roster
    member = cast.person(cast.member)
    today = timezone.localdate()
    data = {"person": member.pk, "title": OrgRole.Title.ORGANIZATION, "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=400)).isoformat()}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    post = OrgRole.objects.get(person=member, title=OrgRole.Title.ORGANIZATION)
    assert _audited("org_role_assign", post)
    assert RoleGrant.objects.in_force().filter(user=cast.member, role=Role.ORG_ADMIN).exists()


def test_it_refuses_an_appointment_outside_the_subtree_or_by_a_non_manager(client, cast):
    url = reverse("org:org_role_assign", args=[cast.branch_a1.pk])
    outsider = cast.person(cast.secretary_b)
    data = {"person": outsider.pk, "title": OrgRole.Title.SECRETARY, "starts_on": "2026-01-01"}
    client.force_login(cast.secretary_a)
    response = client.post(url, data)
    assert response.status_code == 422
    assert "只能任命本组织及下级组织的在册人员。" in response.content.decode()
    assert client.put(url).status_code == 405
    client.force_login(cast.member)
    assert client.post(url, data).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, data).status_code == 404
    assert not OrgRole.objects.filter(person=outsider, org=cast.branch_a1).exists()


def test_it_ends_a_post_after_a_confirmation(client, cast):
    post = OrgRole.objects.get(org=cast.branch_a1, title=OrgRole.Title.PARTY_AFFAIRS)
    url = reverse("org:org_role_end", args=[cast.branch_a1.pk, post.pk])
    client.force_login(cast.secretary_a)
    page = client.get(url)
    assert page.status_code == 200 and "确定为 <strong>赵敏</strong>" in page.content.decode()
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(url, {"on": yesterday.isoformat()})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.ends_on == yesterday
    assert _audited("org_role_end", post)
    assert not RoleGrant.objects.in_force().filter(user=cast.org_admin, role=Role.ORG_ADMIN).exists()


def test_it_refuses_a_bad_or_unauthorised_post_end(client, cast):
    post = OrgRole.objects.get(org=cast.branch_a1, title=OrgRole.Title.PARTY_AFFAIRS)
    url = reverse("org:org_role_end", args=[cast.branch_a1.pk, post.pk])
    client.force_login(cast.secretary_a)
    response = client.post(url, {"on": "2020-01-01"})
    assert response.status_code == 422
    assert "离任日期不能早于任职日期。" in response.content.decode()
    assert client.put(url).status_code == 405
    other = OrgRole.objects.get(org=cast.branch_b1)
    assert (
        client.post(
            reverse("org:org_role_end", args=[cast.branch_a1.pk, other.pk]), {"on": "2026-01-01"}
        ).status_code
        == 404
    )
    client.force_login(cast.member)
    assert client.post(url, {"on": "2026-01-01"}).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, {"on": "2026-01-01"}).status_code == 404
    post.refresh_from_db()
    assert post.ends_on == date(2027, 5, 31)


# --- 换届 ------------------------------------------------------------------------------------


def test_it_hands_over_to_a_new_committee_and_moves_access(client, cast):
    today = timezone.localdate()
    member = cast.person(cast.member)
    url = reverse("org:org_handover", args=[cast.branch_a1.pk])
    client.force_login(cast.committee_admin)
    page = client.get(url)
    assert page.status_code == 200 and "王建国" in page.content.decode()
    data = {"on": today.isoformat(), "term_ends_on": (today + timedelta(days=3 * 365)).isoformat(), "confirm": "on",
            "person_1": member.pk, "title_1": OrgRole.Title.SECRETARY}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    assert _audited("org_handover", cast.branch_a1)
    old = OrgRole.objects.get(org=cast.branch_a1, person=cast.person(cast.secretary_a))
    assert old.ends_on == today - timedelta(days=1)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("org:org_edit", args=[cast.branch_a1.pk])).status_code == 403
    client.force_login(cast.member)
    assert client.get(reverse("org:org_edit", args=[cast.branch_a1.pk])).status_code == 200


def test_it_refuses_a_handover_without_confirmation_or_posts(client, cast):
    url = reverse("org:org_handover", args=[cast.branch_a1.pk])
    member = cast.person(cast.member)
    base = {"on": "2026-06-01", "term_ends_on": "2029-05-31", "person_1": member.pk, "title_1": "secretary"}
    client.force_login(cast.secretary_a)
    response = client.post(url, base)
    assert response.status_code == 422
    assert "请勾选确认" in response.content.decode()
    response = client.post(url, {"on": "2026-06-01", "term_ends_on": "2029-05-31", "confirm": "on"})
    assert response.status_code == 422
    assert "请至少填写一名新一届委员" in response.content.decode()
    response = client.post(url, {**base, "confirm": "on", "term_ends_on": "2026-01-01"})
    assert response.status_code == 422
    assert "新一届任期届满日期必须晚于换届日期。" in response.content.decode()
    assert client.put(url).status_code == 405
    client.force_login(cast.member)
    assert client.post(url, {**base, "confirm": "on"}).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, {**base, "confirm": "on"}).status_code == 404
    assert OrgRole.objects.filter(org=cast.branch_a1).count() == 2
