"""Pickers on the post (任命), 换届 and grant forms: no select of the roster or of every org and unit,
typed names resolved without JavaScript inside exactly the form's scope, pks outside it refused, and the
suggestion endpoint only for whom the form is for (names, units and offices only: never an identifier)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sizheng.core.models import AuditEvent, Role, RoleGrant
from sizheng.org.models import OrgRole, Unit

pytestmark = pytest.mark.django_db
GRANTS = reverse("org:grants")


def pick(kind: str) -> str:
    return reverse("org:pick", args=[kind])


def _options(response) -> list[tuple[str, str]]:
    return re.findall(r'data-pk="(\d+)" data-label="([^"]*)"', response.content.decode())


def _assign(org, person_pk="", text=None) -> dict:
    data = {
        "person": person_pk,
        "title": OrgRole.Title.ORGANIZATION,
        "starts_on": timezone.localdate().isoformat(),
    }
    if text is not None:
        data["person_q"] = text
    return data


def _audited(action: str, obj) -> bool:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).exists()


# --- 任命 -------------------------------------------------------------------------------------


def test_the_post_form_renders_a_person_picker_not_the_roster(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(reverse("org:org_role_assign", args=[cast.root.pk])).content.decode()
    assert 'name="person_q"' in html and 'name="person"' in html
    assert '<select name="person"' not in html
    for name in ("王建国", "刘洋", "孙丽"):
        assert name not in html
    assert f"scope=post_candidates&amp;org={cast.root.pk}" in html


def test_it_appoints_a_person_typed_without_javascript_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("org:org_role_assign", args=[cast.branch_a1.pk])
    response = client.post(url, _assign(cast.branch_a1, text="刘洋"))
    assert response.status_code == 302
    member = cast.person(cast.member)
    post = OrgRole.objects.get(person=member, org=cast.branch_a1, title=OrgRole.Title.ORGANIZATION)
    assert _audited("org_role_assign", post)
    assert RoleGrant.objects.in_force().filter(user=cast.member, role=Role.ORG_ADMIN).exists()


def test_it_appoints_the_chosen_pk_while_its_label_stands(client, cast):
    client.force_login(cast.secretary_a)
    member = cast.person(cast.member)
    url = reverse("org:org_role_assign", args=[cast.branch_a1.pk])
    response = client.post(url, _assign(cast.branch_a1, member.pk, "刘洋（财政局 · 预算处）"))
    assert response.status_code == 302
    assert OrgRole.objects.filter(person=member, org=cast.branch_a1).exists()


def test_it_refuses_a_person_outside_the_orgs_candidates_by_pk_or_by_name(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("org:org_role_assign", args=[cast.branch_a1.pk])
    outsider = cast.person(cast.secretary_b)
    response = client.post(url, _assign(cast.branch_a1, outsider.pk))
    assert response.status_code == 422
    assert "只能任命本组织及下级组织的在册人员。" in response.content.decode()
    response = client.post(url, _assign(cast.branch_a1, text="李红梅"))
    assert response.status_code == 422
    assert "没有找到名称包含“李红梅”的人员。" in response.content.decode()
    # 陈志强 is in unit A but in branch A2: not a candidate of branch A1, even for the committee admin.
    client.force_login(cast.committee_admin)
    response = client.post(url, _assign(cast.branch_a1, text="陈志强"))
    assert response.status_code == 422
    assert not OrgRole.objects.filter(org=cast.branch_a1, title=OrgRole.Title.ORGANIZATION).exists()


def test_the_person_suggestions_are_exactly_the_orgs_candidates(client, cast):
    client.force_login(cast.committee_admin)
    params = {"scope": "post_candidates", "org": cast.branch_a1.pk}
    member = cast.person(cast.member)
    response = client.get(pick("person"), {**params, "q": "刘"})
    assert _options(response) == [(str(member.pk), "刘洋（财政局 · 预算处）")]
    html = client.get(pick("person"), {**params, "q": "财政局"}).content.decode()
    assert "陈志强" not in html and "周杰" not in html  # unit A, but not of branch A1
    assert member.phone not in html and member.id_number not in html
    # By unit and office too, never by identifier.
    assert _options(client.get(pick("person"), {**params, "q": "预算处"})) == _options(response)
    assert _options(client.get(pick("person"), {**params, "q": member.phone})) == []
    # A secretary: their subtree only; an org they do not manage narrows to nobody.
    client.force_login(cast.secretary_a)
    assert _options(client.get(pick("person"), {**params, "q": "刘"})) == _options(response)
    other = {"scope": "post_candidates", "org": cast.branch_b1.pk}
    assert _options(client.get(pick("person"), {**other, "q": "李红梅"})) == []


@pytest.mark.parametrize("who", ["member", "outsider", "leader", "counselor", "union", "secadmin"])
def test_the_person_suggestions_are_404_for_whoever_cannot_appoint(client, cast, who):
    client.force_login(getattr(cast, who))
    params = {"scope": "post_candidates", "org": cast.branch_a1.pk, "q": "刘"}
    assert client.get(pick("person"), params).status_code == 404


# --- 换届 ------------------------------------------------------------------------------------


def test_the_handover_form_renders_pickers_and_resolves_typed_names(client, cast):
    today = timezone.localdate()
    url = reverse("org:org_handover", args=[cast.branch_a1.pk])
    client.force_login(cast.committee_admin)
    html = client.get(url).content.decode()
    assert html.count('name="person_1_q"') == 1 and '<select name="person_' not in html
    assert "刘洋" not in html  # the roster is not listed (王建国 is: the committee about to leave)
    data = {"on": today.isoformat(), "term_ends_on": today.replace(year=today.year + 3).isoformat(),
            "confirm": "on", "person_1": "", "person_1_q": "刘洋", "title_1": OrgRole.Title.SECRETARY,
            "person_2_q": "赵敏", "title_2": OrgRole.Title.PARTY_AFFAIRS}  # fmt: skip
    bad = client.post(url, {**data, "person_2_q": "孙丽"})
    assert bad.status_code == 422 and "没有找到名称包含“孙丽”的人员。" in bad.content.decode()
    no_text = {k: v for k, v in data.items() if k != "person_2_q"}
    bad = client.post(url, {**no_text, "person_2": cast.person(cast.outsider).pk})
    assert bad.status_code == 422 and "只能选择本组织及下级组织的在册人员。" in bad.content.decode()
    assert not OrgRole.objects.filter(org=cast.branch_a1, person=cast.person(cast.member)).exists()
    response = client.post(url, data)
    assert response.status_code == 302
    assert _audited("org_handover", cast.branch_a1)
    new = OrgRole.objects.get(org=cast.branch_a1, person=cast.person(cast.member))
    assert new.title == OrgRole.Title.SECRETARY and new.starts_on == today


# --- grants (secadmin) -------------------------------------------------------------------------


def test_the_grant_form_renders_unit_and_org_pickers(client, cast):
    client.force_login(cast.secadmin)
    html = client.get(GRANTS).content.decode()
    assert 'name="unit_q"' in html and 'name="org_q"' in html
    assert f'<option value="{cast.unit_c.pk}"' not in html and cast.branch_c.name not in html
    assert "scope=grantable" in html


def test_it_grants_over_a_typed_unit_or_org_with_audit(client, cast):
    client.force_login(cast.secadmin)
    response = client.post(GRANTS, {"username": "waibu", "role": Role.LEADER, "unit": "", "unit_q": "司法局"})
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=cast.outsider, role=Role.LEADER)
    assert (grant.scope_kind, grant.scope_id) == ("unit", cast.unit_c.pk)
    assert AuditEvent.objects.filter(action="role_grant", object_id=str(grant.pk)).exists()
    response = client.post(GRANTS, {"username": "waibu", "role": Role.UNION, "org": "", "org_q": "B"})
    assert response.status_code == 302  # the exact code among B, B1
    grant = RoleGrant.objects.get(user=cast.outsider, role=Role.UNION)
    assert (grant.scope_kind, grant.scope_id) == ("org", cast.general_b.pk)


def test_it_refuses_an_inactive_unit_or_an_unknown_name(client, cast):
    closed = Unit.objects.create(name="市撤并局", short_name="撤并局", code="U-X", order=9, is_active=False)
    client.force_login(cast.secadmin)
    before = RoleGrant.objects.count()
    response = client.post(GRANTS, {"username": "waibu", "role": Role.LEADER, "unit": closed.pk})
    assert response.status_code == 422 and "所选项不在您的查看范围内" in response.content.decode()
    response = client.post(GRANTS, {"username": "waibu", "role": Role.LEADER, "unit_q": "撤并局"})
    assert response.status_code == 422 and "没有找到名称包含“撤并局”的单位。" in response.content.decode()
    response = client.post(GRANTS, {"username": "waibu", "role": Role.COUNSELOR, "org_q": "不存在的支部"})
    assert (
        response.status_code == 422
        and "没有找到名称包含“不存在的支部”的党组织。" in response.content.decode()
    )
    assert RoleGrant.objects.count() == before


def test_the_grant_suggestions_are_for_the_secadmin_only(client, cast):
    client.force_login(cast.secadmin)
    response = client.get(pick("unit"), {"scope": "grantable", "q": "司法"})
    assert _options(response) == [(str(cast.unit_c.pk), "市司法局")]
    response = client.get(pick("org"), {"scope": "grantable", "q": "C"})
    assert (str(cast.branch_c.pk), f"{cast.branch_c.name}（C）") in _options(response)
    for who in ("committee_admin", "secretary_a", "sysadmin", "auditor", "outsider"):
        client.force_login(getattr(cast, who))
        assert client.get(pick("unit"), {"scope": "grantable", "q": "司法"}).status_code == 404
        assert client.get(pick("org"), {"scope": "grantable", "q": "C"}).status_code == 404
