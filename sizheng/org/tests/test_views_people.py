"""The people list, the person page (masking, the audited reveal) and person create/edit/transfer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.models import AuditEvent
from sizheng.org.forms import AGE_BANDS, age_band_bounds, years_before
from sizheng.org.idcard import make_id_number
from sizheng.org.models import Person, PersonMove, PoliticalStatus
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
PEOPLE = reverse("org:people")
ALL = {"王建国", "李红梅", "赵敏", "刘洋", "陈志强", "孙丽", "周杰"}


def _names(client, user, **params) -> set[str]:
    client.force_login(user)
    response = client.get(PEOPLE, params)
    assert response.status_code == 200, response.content.decode()[:500]
    html = response.content.decode()
    table = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return {name for name in ALL | {"新人甲", "新人乙"} if f">{name}</a>" in table}


# --- the list --------------------------------------------------------------------------------


def test_it_lists_everyone_for_the_committee_admin_without_identifiers(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(PEOPLE).content.decode()
    assert "共 7 人" in html
    assert _names(client, cast.committee_admin) == ALL
    for person in Person.objects.all():
        assert person.id_number not in html and person.phone not in html
        assert person.id_number[:3] + "***" not in html  # not even masked
        assert person.phone[:3] + "****" not in html


def test_it_limits_the_list_and_its_filter_choices_to_a_secretarys_branch(client, cast):
    assert _names(client, cast.secretary_a) == {"王建国", "赵敏", "刘洋"}
    html = client.get(PEOPLE).content.decode()
    assert "市财政局" in html and "市教育局" not in html and "市司法局" not in html
    assert "群众" not in html  # no non-member in scope, so no such 政治面貌 choice
    response = client.get(PEOPLE, {"unit": cast.unit_b.pk})
    assert response.status_code == 422
    assert "所选项不在您的查看范围内" in response.content.decode()


def test_it_filters_by_unit_office_org_status_and_leadership(client, cast):
    admin = cast.committee_admin
    assert _names(client, admin, unit=cast.unit_b.pk) == {"李红梅"}
    assert _names(client, admin, office=cast.office_a2.pk) == {"刘洋", "周杰"}
    assert _names(client, admin, org=cast.committee_a.pk) == {"王建国", "赵敏", "刘洋", "陈志强"}
    assert _names(client, admin, political_status=PoliticalStatus.MASSES) == {"周杰"}
    assert _names(client, admin, leader="yes") == {"陈志强"}
    assert "陈志强" not in _names(client, admin, leader="no")


def test_it_filters_by_age_band_computed_from_today(client, cast):
    today = timezone.localdate()
    births = {"王建国": years_before(today, 35), "赵敏": years_before(today, 36) + timedelta(days=1),
              "刘洋": years_before(today, 36), "陈志强": years_before(today, 56), "李红梅": years_before(today, 50)}  # fmt: skip
    for name, born in births.items():
        Person.objects.filter(name=name).update(birth_date=born)
    Person.objects.filter(name__in=["孙丽", "周杰"]).update(birth_date=None)
    admin = cast.committee_admin
    assert _names(client, admin, age="le35") == {"王建国", "赵敏"}
    assert _names(client, admin, age="36_45") == {"刘洋"}
    assert _names(client, admin, age="46_55") == {"李红梅"}
    assert _names(client, admin, age="ge56") == {"陈志强"}


def test_it_sorts_by_name_and_age(client, cast):
    Person.objects.filter(name="王建国").update(birth_date=date(1990, 1, 1))
    Person.objects.filter(name="刘洋").update(birth_date=date(1970, 1, 1))
    Person.objects.filter(name="赵敏").update(birth_date=date(1980, 1, 1))
    client.force_login(cast.committee_admin)  # not a person: the navbar holds no name that could match

    def order(sort: str) -> list[str]:
        html = client.get(PEOPLE, {"sort": sort, "org": cast.branch_a1.pk}).content.decode()
        return sorted(["王建国", "赵敏", "刘洋"], key=lambda n: html.index(f">{n}</a>"))

    assert order("age") == ["王建国", "赵敏", "刘洋"]
    assert order("-age") == ["刘洋", "赵敏", "王建国"]
    assert order("name") == sorted(["王建国", "赵敏", "刘洋"])


def test_it_searches_by_name_and_by_a_full_id_number_through_the_blind_index(client, cast):
    admin = cast.committee_admin
    assert _names(client, admin, q="刘") == {"刘洋"}
    target = Person.objects.get(name="孙丽")
    with CaptureQueriesContext(connection) as queries:
        assert _names(client, admin, q=target.id_number) == {"孙丽"}
    assert any('"id_index" =' in q["sql"] for q in queries.captured_queries)
    full_width = target.id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert _names(client, admin, q=full_width) == {"孙丽"}
    assert _names(client, admin, q=target.id_number[:10]) == set()  # partial numbers find nobody


@pytest.mark.parametrize("who", ["leader", "member", "secadmin", "counselor", "union"])
def test_it_hides_the_people_list_from_roles_without_one(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(PEOPLE).status_code == 404


def test_it_keeps_the_people_list_query_count_flat(client, cast):
    client.force_login(cast.secretary_a)
    client.get(PEOPLE)
    with CaptureQueriesContext(connection) as small:
        assert client.get(PEOPLE, {"sort": "name"}).status_code == 200
    for i in range(30):
        make_person(f"党员{i}", cast.unit_a, org=cast.branch_a1, office=cast.office_a1)
    with CaptureQueriesContext(connection) as large:
        html = client.get(PEOPLE, {"sort": "name"}).content.decode()
    assert "党员29" in html
    assert len(large) == len(small) <= 16


def test_it_links_the_excel_export_with_the_same_filters_when_it_exists(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(PEOPLE, {"unit": cast.unit_a.pk}).content.decode()
    try:
        export = reverse("org:people_export")
    except NoReverseMatch:
        assert "导出 Excel" not in html
    else:
        assert f'href="{export}?unit={cast.unit_a.pk}"' in html


# --- the person page -------------------------------------------------------------------------


def test_it_masks_identifiers_for_a_secretary_and_ignores_their_reveal(client, cast):
    member = cast.person(cast.member)
    client.force_login(cast.secretary_a)
    url = reverse("org:person_detail", args=[member.pk])
    html = client.get(url).content.decode()
    assert member.id_number not in html and member.phone not in html
    assert member.id_number[:3] + "*" in html
    assert "显示完整信息" not in html
    html = client.get(url, {"reveal": "1"}).content.decode()
    assert member.id_number not in html
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


def test_it_reveals_identifiers_to_the_org_admin_and_audits_the_read(client, cast):
    member = cast.person(cast.member)
    client.force_login(cast.org_admin)
    url = reverse("org:person_detail", args=[member.pk])
    html = client.get(url).content.decode()
    assert "显示完整信息" in html and member.id_number not in html
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()
    html = client.get(url, {"reveal": "1"}).content.decode()
    assert member.id_number in html and member.phone in html
    event = AuditEvent.objects.get(action="read_sensitive")
    assert event.actor == cast.org_admin and event.object_id == str(member.pk)
    assert event.detail == {"fields": ["id_number", "phone"]}
    assert member.id_number not in str(event.detail)


def test_it_shows_roster_fields_birthday_party_age_and_account(client, cast):
    member = cast.person(cast.member)
    client.force_login(cast.secretary_a)
    html = client.get(reverse("org:person_detail", args=[member.pk])).content.decode()
    today = timezone.localdate()
    years = today.year - 2011 - ((today.month, today.day) < (7, 1))
    assert "每年 7月1日" in html
    assert f"{years} 年（自转正之日起计算）" in html
    assert f"（{member.age_on(today)} 岁）" in html
    assert '用户名 <span class="sz-mono">dangyuan</span>' in html
    assert reverse("org:person_edit", args=[member.pk]) in html


def test_it_hides_a_person_outside_scope_with_404(client, cast):
    other = cast.person(cast.secretary_b)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("org:person_detail", args=[other.pk])).status_code == 404
    client.force_login(cast.member)
    assert (
        client.get(reverse("org:person_detail", args=[cast.person(cast.secretary_a).pk])).status_code == 404
    )
    own = client.get(reverse("org:person_detail", args=[cast.person(cast.member).pk]))
    assert (
        own.status_code == 200
        and reverse("org:person_edit", args=[cast.person(cast.member).pk]) not in own.content.decode()
    )


def test_it_shows_the_committee_admin_everyone_masked(client, cast):
    client.force_login(cast.committee_admin)
    for person in Person.objects.all():
        html = client.get(reverse("org:person_detail", args=[person.pk])).content.decode()
        assert person.name in html and person.id_number not in html
        assert "显示完整信息" not in html


# --- create ----------------------------------------------------------------------------------


def _person_data(cast, **changes) -> dict:
    data = {
        "name": "新人甲", "gender": "female", "ethnicity": "汉族", "native_place": "河北保定", "birth_date": "1990-05-03",
        "id_number": make_id_number("110101", date(1990, 5, 3), 77), "phone": "13911112222", "education": "大学本科",
        "work_started_on": "2012-07-01", "political_status": PoliticalStatus.CPC_MEMBER, "joined_on": "2015-06-01",
        "confirmed_on": "2016-06-01", "position": "一级主任科员", "category": "公务员", "left_on": "",
        "unit": cast.unit_a.pk, "office": cast.office_a1.pk, "org": cast.branch_a1.pk,
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_it_creates_a_person_with_encrypted_identifiers_and_audit(client, cast):
    client.force_login(cast.org_admin)
    assert client.get(reverse("org:person_create")).status_code == 200
    response = client.post(reverse("org:person_create"), _person_data(cast))
    assert response.status_code == 302
    person = Person.objects.get(name="新人甲")
    assert person.org == cast.branch_a1 and person.id_index and person.phone == "13911112222"
    event = AuditEvent.objects.get(action="person_create", object_id=str(person.pk))
    assert "13911112222" not in str(event.detail)


def test_it_rejects_a_bad_person_with_422_on_the_field(client, cast):
    client.force_login(cast.org_admin)
    url = reverse("org:person_create")
    valid = make_id_number("110101", date(1990, 5, 3), 77)
    response = client.post(url, _person_data(cast, id_number=valid[:17] + ("0" if valid[-1] != "0" else "1")))
    assert response.status_code == 422
    assert "身份证号校验位不正确" in response.content.decode()
    response = client.post(url, _person_data(cast, confirmed_on="2014-01-01"))
    assert response.status_code == 422
    assert "转正日期必须晚于入党日期。" in response.content.decode()
    response = client.post(url, _person_data(cast, org=cast.branch_b1.pk))
    assert response.status_code == 422  # not an org this org admin manages
    assert not Person.objects.filter(name="新人甲").exists()


def test_it_answers_405_and_404_on_person_create(client, cast):
    client.force_login(cast.org_admin)
    assert client.put(reverse("org:person_create")).status_code == 405
    client.force_login(cast.leader)
    assert client.post(reverse("org:person_create"), _person_data(cast)).status_code == 404
    assert not Person.objects.filter(name="新人甲").exists()


# --- edit ------------------------------------------------------------------------------------


def _edit_data(person: Person, **changes) -> dict:
    data = {k: getattr(person, k) for k in ("name", "gender", "ethnicity", "native_place", "education", "position",
                                            "category", "political_status")}  # fmt: skip
    for k in ("birth_date", "work_started_on", "joined_on", "confirmed_on", "left_on"):
        value = getattr(person, k)
        data[k] = value.isoformat() if value else ""
    data.update({"id_number": "", "phone": "", "version": person.version})
    data.update(changes)
    return data


def test_it_edits_a_person_keeping_identifiers_when_left_blank(client, cast):
    member = cast.person(cast.member)
    url = reverse("org:person_edit", args=[member.pk])
    client.force_login(cast.secretary_a)
    page = client.get(url).content.decode()
    assert member.id_number not in page and member.phone not in page
    response = client.post(url, _edit_data(member, position="二级主任科员"))
    assert response.status_code == 302
    fresh = Person.objects.get(pk=member.pk)
    assert fresh.position == "二级主任科员" and fresh.version == 2
    assert fresh.id_number == member.id_number and fresh.phone == member.phone
    assert AuditEvent.objects.get(action="person_update", object_id=str(member.pk)).detail == {
        "fields": ["position"]
    }


def test_it_updates_the_blind_index_when_a_new_id_number_is_entered(client, cast):
    member = cast.person(cast.member)
    number = make_id_number("110101", member.birth_date, 501)
    client.force_login(cast.org_admin)
    response = client.post(reverse("org:person_edit", args=[member.pk]), _edit_data(member, id_number=number))
    assert response.status_code == 302
    client.force_login(cast.committee_admin)
    assert _names(client, cast.committee_admin, q=number) == {"刘洋"}


def test_it_answers_409_to_a_stale_person_edit(client, cast):
    member = cast.person(cast.member)
    url = reverse("org:person_edit", args=[member.pk])
    client.force_login(cast.secretary_a)
    assert client.post(url, _edit_data(member, position="甲")).status_code == 302
    response = client.post(url, _edit_data(member, position="乙"))
    assert response.status_code == 409
    assert "该人员信息已被他人修改，请刷新页面后重新填写。" in response.content.decode()
    assert Person.objects.get(pk=member.pk).position == "甲"


def test_it_refuses_bad_or_unauthorised_person_edits(client, cast):
    member = cast.person(cast.member)
    url = reverse("org:person_edit", args=[member.pk])
    client.force_login(cast.secretary_a)
    response = client.post(url, _edit_data(member, confirmed_on="2009-01-01"))
    assert response.status_code == 422
    assert "转正日期必须晚于入党日期。" in response.content.decode()
    assert client.put(url).status_code == 405
    client.force_login(cast.member)
    assert client.post(url, _edit_data(member, position="自己改")).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, _edit_data(member, position="外人改")).status_code == 404
    assert Person.objects.get(pk=member.pk).version == 1


# --- transfer --------------------------------------------------------------------------------


def test_it_transfers_a_person_and_keeps_the_history(client, cast):
    member = cast.person(cast.member)
    url = reverse("org:person_transfer", args=[member.pk])
    client.force_login(cast.committee_admin)
    assert client.get(url).status_code == 200
    data = {"on": timezone.localdate().isoformat(), "unit": cast.unit_b.pk, "office": cast.office_b.pk,
            "org": cast.branch_b1.pk, "reason": "工作调动", "version": member.version}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    fresh = Person.objects.get(pk=member.pk)
    assert (fresh.unit, fresh.office, fresh.org) == (cast.unit_b, cast.office_b, cast.branch_b1)
    move = PersonMove.objects.get(person=member)
    assert move.from_org == cast.branch_a1 and move.to_org == cast.branch_b1
    assert AuditEvent.objects.filter(action="person_transfer", object_id=str(member.pk)).exists()
    html = client.get(reverse("org:person_detail", args=[member.pk])).content.decode()
    assert "工作调动" in html and "市财政局 → 市教育局" in html
    client.force_login(cast.secretary_a)
    assert client.get(reverse("org:person_detail", args=[member.pk])).status_code == 404


def test_it_refuses_bad_or_unauthorised_transfers(client, cast):
    member = cast.person(cast.member)
    url = reverse("org:person_transfer", args=[member.pk])
    data = {"on": "2026-06-01", "unit": cast.unit_a.pk, "office": cast.office_b.pk, "org": cast.branch_a2.pk,
            "reason": "", "version": member.version}  # fmt: skip
    client.force_login(cast.committee_admin)
    response = client.post(url, data)
    assert response.status_code == 422
    assert "所选处室不属于所选单位" in response.content.decode()
    response = client.post(url, {**data, "office": "", "version": 0})
    assert response.status_code == 409
    assert "该人员信息已被他人修改" in response.content.decode()
    assert client.put(url).status_code == 405
    client.force_login(cast.secretary_a)
    assert (
        client.post(url, {**data, "office": "", "org": cast.branch_b1.pk, "unit": cast.unit_b.pk}).status_code
        == 422
    )
    client.force_login(cast.member)
    assert client.post(url, {**data, "office": ""}).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.post(url, {**data, "office": ""}).status_code == 404
    assert not PersonMove.objects.exists()


# --- pure helpers ----------------------------------------------------------------------------


@given(born=st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
       today=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))  # fmt: skip
def test_it_puts_every_birth_date_in_exactly_the_band_of_its_age(born, today):
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    bands = [b for b in AGE_BANDS if _in_band(born, b, today)]
    assert len(bands) == 1
    low, high = AGE_BANDS[bands[0]]
    assert (low is None or age >= low) and (high is None or age <= high)


def _in_band(born: date, band: str, today: date) -> bool:
    after, until = age_band_bounds(band, today)
    return (after is None or born > after) and (until is None or born <= until)


def test_it_moves_29_february_to_the_28th_in_other_years():
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert years_before(date(2024, 2, 29), 4) == date(2020, 2, 29)


def test_it_adds_new_people_into_the_list_for_the_creator(client, cast):
    make_person("新人乙", cast.unit_a, org=cast.branch_a2)
    assert "新人乙" in _names(client, cast.committee_admin)
    assert "新人乙" not in _names(client, cast.secretary_a)
