"""Search-as-you-type pickers (``org.pickers``): the people list's unit, office and org filters render
no list of choices, resolve typed text without JavaScript inside the user's scope, keep the page at a
fixed number of queries however large the tree, and the suggestion endpoint answers only within the
same scope."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.org import access, pickers
from sizheng.org import forms as org_forms
from sizheng.org.forms import PeopleFilterForm
from sizheng.org.models import Office, Org, Person, PoliticalStatus, Unit
from sizheng.org.testing import make_org, make_person

pytestmark = pytest.mark.django_db
PEOPLE = reverse("org:people")
ALL = {"王建国", "李红梅", "赵敏", "刘洋", "陈志强", "孙丽", "周杰"}
NOT_IN_SCOPE = "所选项不在您的查看范围内，请重新选择。"


def pick(kind: str) -> str:
    return reverse("org:pick", args=[kind])


def _names(response) -> set[str]:
    html = response.content.decode()
    table = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return {name for name in ALL if f">{name}</a>" in table}


def _errors(response) -> list[str]:
    return re.findall(r'invalid-feedback d-block">([^<]*)<', response.content.decode())


def _filters(response) -> str:
    """The filter form's HTML (the table below it lists people, and so names their orgs)."""
    html = response.content.decode()
    start = html.index('<form method="get" class="card')
    return html[start : html.index("</form>", start)]


def _options(response) -> list[tuple[str, str]]:
    return re.findall(r'data-pk="(\d+)" data-label="([^"]*)"', response.content.decode())


def _plant(cast, n: int = 200) -> None:
    """n more units (each with an office), orgs and people: the tree growing as in the demo."""
    units = Unit.objects.bulk_create(
        [Unit(name=f"新增单位{i}", short_name=f"新单位{i}", code=f"NU{i}", order=10 + i) for i in range(n)]
    )
    offices = Office.objects.bulk_create([Office(unit=u, name=f"综合处{i}") for i, u in enumerate(units)])
    orgs = [
        make_org(f"新增支部{i}", Org.Kind.BRANCH, cast.root, f"NB{i}", units=[units[i]]) for i in range(n)
    ]
    Person.objects.bulk_create(
        [
            Person(
                name=f"新人{i}",
                unit=units[i],
                office=offices[i],
                org=orgs[i],
                political_status=PoliticalStatus.CPC_MEMBER,
            )
            for i in range(n)
        ]  # fmt: skip
    )


def _count(client, url, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx.captured_queries), response


# --- the people list ---------------------------------------------------------------------------


def test_it_renders_unit_office_and_org_as_labelled_pickers_without_options(client, cast):
    client.force_login(cast.committee_admin)
    html = _filters(client.get(PEOPLE))
    for name, label in (("unit", "单位"), ("office", "处室"), ("org", "党组织")):
        assert f'<label class="form-label" for="id_{name}">{label}</label>' in html
        assert f'name="{name}_q"' in html and f'id="id_{name}"' in html and 'role="combobox"' in html
        assert f'<input type="hidden" name="{name}" value="" id="id_{name}_pk"' in html
        assert f'aria-controls="id_{name}_list"' in html and f'id="id_{name}_list" role="listbox"' in html
        assert f'hx-get="{pick(name)}?scope=' in html
        assert f'<select name="{name}"' not in html
    assert 'hx-include="#id_unit_pk"' in html  # the office suggestions follow the chosen unit
    assert "市财政局机关第一支部委员会" not in html and "预算处" not in html


def test_it_keeps_the_people_list_at_ten_queries_flat_as_the_tree_grows(client, cast):
    client.force_login(cast.committee_admin)
    cases = [{}, {"org": cast.committee_a.pk}, {"unit": cast.unit_a.pk}, {"office": cast.office_a1.pk},
             {"org": cast.committee_a.pk, "unit": cast.unit_a.pk}]  # fmt: skip
    client.get(PEOPLE)
    few = [_count(client, PEOPLE, params) for params in cases]
    _plant(cast)
    many = [_count(client, PEOPLE, params) for params in cases]
    assert [n for n, _ in few] == [n for n, _ in many]
    # What every signed-in page pays, plus the list's own; one filter chosen is one query more.
    assert max(n for n, _ in many[:4]) <= 10
    for (_, small), (_, large) in zip(few, many, strict=True):
        assert _filters(small).count("<option") == _filters(large).count("<option")
        assert "新增支部" not in _filters(large) and "新增单位" not in _filters(large)
    assert "共 207 人" in many[0][1].content.decode()


def test_it_resolves_a_chosen_pk_in_one_query_and_an_unset_picker_in_none(cast, django_assert_num_queries):
    form = PeopleFilterForm({}, user=cast.committee_admin)
    org = form.fields["org"]
    with django_assert_num_queries(0):
        assert org.clean(pickers.Typed("", None)) is None
        assert org.clean(pickers.Typed("", "")) is None
    with django_assert_num_queries(1):
        assert org.clean(pickers.Typed(str(cast.branch_a1.pk), None)) == cast.branch_a1
    with django_assert_num_queries(1):
        label = "市财政局机关第一支部委员会（A1）"
        assert org.clean(pickers.Typed(str(cast.branch_a1.pk), label)) == cast.branch_a1


def test_it_filters_by_the_pk_of_existing_links(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"org": cast.committee_a.pk})
    assert _names(response) == {"王建国", "赵敏", "刘洋", "陈志强"}
    html = response.content.decode()
    assert f'name="org" value="{cast.committee_a.pk}"' in html
    assert 'value="市财政局机关委员会（A）"' in html  # the chosen org's label in the text input
    assert _names(client.get(PEOPLE, {"unit": cast.unit_b.pk})) == {"李红梅"}
    assert _names(client.get(PEOPLE, {"office": cast.office_a2.pk})) == {"刘洋", "周杰"}


# --- without JavaScript: typed text, resolved on submit ----------------------------------------


def test_it_resolves_typed_text_to_the_one_match_and_links_by_pk(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"org_q": "第二支部", "org": ""})
    assert response.status_code == 200
    assert _names(response) == {"陈志强"}
    html = response.content.decode()
    assert f'name="org" value="{cast.branch_a2.pk}"' in html
    assert 'value="市财政局机关第二支部委员会（A2）"' in html
    # The export and the page links carry the pk, not the typed text.
    assert f"{reverse('org:people_export')}?org={cast.branch_a2.pk}" in html
    assert "org_q" not in response.context["page"].querystring
    assert _names(client.get(PEOPLE, {"unit_q": "教育"})) == {"李红梅"}
    assert _names(client.get(PEOPLE, {"office_q": "财政局 · 预算处"})) == {"刘洋", "周杰"}


def test_it_prefers_the_one_exact_name_among_several_matches(client, cast):
    Unit.objects.create(name="市财政局机关服务中心", short_name="财政服务中心", code="U-A2")
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"unit_q": "市财政局"})
    assert response.status_code == 200
    assert _names(response) == {"王建国", "赵敏", "刘洋", "陈志强", "周杰"}


def test_it_asks_for_a_fuller_name_when_several_match(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"org_q": "支部"})
    assert response.status_code == 422
    [error] = _errors(response)
    assert error.startswith("有 5 个党组织名称包含“支部”（如 ") and error.endswith("），请输入更完整的名称。")
    assert "市财政局机关第一支部委员会、市财政局机关第二支部委员会" in error
    # An office is in the list's scope once someone in scope works there.
    make_person(
        "吴芳", cast.unit_b, org=cast.branch_b1, office=Office.objects.create(unit=cast.unit_b, name="办公室")
    )
    response = client.get(PEOPLE, {"office_q": "办公室"})
    assert response.status_code == 422
    assert _errors(response) == [
        "有 2 个处室名称包含“办公室”（如 财政局 · 办公室、教育局 · 办公室），请输入更完整的名称。"
    ]
    # Narrowed by the unit chosen beside it (as the suggestions are), “办公室” is one office.
    response = client.get(PEOPLE, {"unit": cast.unit_a.pk, "office_q": "办公室"})
    assert response.status_code == 200
    assert _names(response) == {"王建国", "赵敏", "陈志强"}


def test_it_says_nothing_was_found_and_keeps_what_was_typed(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"org_q": "不存在的组织", "org": ""})
    assert response.status_code == 422
    assert _errors(response) == ["没有找到名称包含“不存在的组织”的党组织。请检查输入，或清空此项查看全部。"]
    assert 'value="不存在的组织"' in response.content.decode()
    response = client.get(PEOPLE, {"unit_q": "火星局"})
    assert _errors(response) == ["没有找到名称包含“火星局”的单位。请检查输入，或清空此项查看全部。"]
    response = client.get(PEOPLE, {"office_q": "火星处"})
    assert _errors(response) == ["没有找到名称包含“火星处”的处室。请检查输入，或清空此项查看全部。"]


def test_it_treats_anything_out_of_scope_as_not_found(client, cast):
    client.force_login(cast.secretary_a)
    response = client.get(PEOPLE, {"org_q": "教育局"})
    assert response.status_code == 422
    assert _errors(response) == ["没有找到名称包含“教育局”的党组织。请检查输入，或清空此项查看全部。"]
    # A pk outside scope answers exactly as a pk that does not exist: existence never leaks.
    outside = client.get(PEOPLE, {"org": cast.branch_b1.pk})
    missing = client.get(PEOPLE, {"org": 999999})
    assert outside.status_code == missing.status_code == 422
    assert _errors(outside) == _errors(missing) == [NOT_IN_SCOPE]
    # The out-of-scope pk next to its own name: the name is looked up in scope, and not found.
    response = client.get(PEOPLE, {"org": cast.branch_b1.pk, "org_q": "市教育局机关第一支部委员会（B1）"})
    assert _errors(response) == [
        "没有找到名称包含“市教育局机关第一支部委员会（B1）”的党组织。请检查输入，或清空此项查看全部。"
    ]
    assert _errors(client.get(PEOPLE, {"unit_q": "教育"})) == [
        "没有找到名称包含“教育”的单位。请检查输入，或清空此项查看全部。"
    ]


def test_it_lets_the_text_beside_a_chosen_pk_change_or_clear_the_choice(client, cast):
    client.force_login(cast.committee_admin)
    a1 = cast.branch_a1.pk
    same = client.get(PEOPLE, {"org": a1, "org_q": "市财政局机关第一支部委员会（A1）"})
    assert _names(same) == {"王建国", "赵敏", "刘洋"}
    # Without JavaScript the hidden pk stays: an edited text is what the user meant…
    edited = client.get(PEOPLE, {"org": a1, "org_q": "第二支部"})
    assert _names(edited) == {"陈志强"}
    # …and an emptied one clears the filter.
    cleared = client.get(PEOPLE, {"org": a1, "org_q": ""})
    assert cleared.status_code == 200 and _names(cleared) == ALL


def test_it_exports_the_same_people_from_a_pk_or_a_typed_name(client, cast):
    client.force_login(cast.committee_admin)
    export = reverse("org:people_export")
    for params in ({"org": cast.branch_a2.pk}, {"org_q": "第二支部"}, {"unit_q": "教育局", "unit": ""}):
        response = client.get(export, params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- the suggestion endpoint -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "member", "secadmin", "auditor"])
def test_it_hides_the_suggestions_from_users_without_a_people_list_or_orgs_to_search(client, cast, who):
    client.force_login(getattr(cast, who))
    for kind in ("org", "unit", "office"):
        assert client.get(pick(kind), {"q": "市"}).status_code == 404


def test_it_answers_404_to_unknown_kinds_and_scopes_and_sends_strangers_to_sign_in(client, cast):
    assert client.get(pick("org"), {"q": "市"}).status_code == 302
    client.force_login(cast.committee_admin)
    assert client.get(pick("account"), {"q": "王"}).status_code == 404
    assert client.get(pick("org"), {"q": "市", "scope": "everything"}).status_code == 404
    assert client.post(pick("org"), {"q": "市"}).status_code == 405


def test_it_suggests_only_orgs_units_and_offices_in_the_secretarys_scope(client, cast):
    client.force_login(cast.secretary_a)
    response = client.get(pick("org"), {"q": "支部"})
    assert _options(response) == [(str(cast.branch_a1.pk), "市财政局机关第一支部委员会（A1）")]
    response = client.get(pick("org"), {"q": "教育"})
    assert _options(response) == []
    assert "没有找到名称包含“教育”的党组织" in response.content.decode()
    assert _options(client.get(pick("unit"), {"q": "市", "scope": "people"})) == [
        (str(cast.unit_a.pk), "市财政局")
    ]
    assert {label for _, label in _options(client.get(pick("office"), {"q": "处"}))} == {"财政局 · 预算处"}
    assert {label for _, label in _options(client.get(pick("office"), {"q": "财政局"}))} == {
        "财政局 · 办公室",
        "财政局 · 预算处",
    }


def test_it_suggests_at_most_twenty_by_name_or_code_exact_first(client, cast):
    client.force_login(cast.committee_admin)
    assert [label for _, label in _options(client.get(pick("org"), {"q": "b1"}))] == [
        "市教育局机关第一支部委员会（B1）"
    ]
    _plant(cast, 30)
    response = client.get(pick("org"), {"q": "新增支部"})
    assert len(_options(response)) == 20
    assert "只显示前 20 个，请输入更完整的名称。" in response.content.decode()
    assert _options(client.get(pick("org"), {"q": "新增支部7"}))[0][1] == "新增支部7（NB7）"  # exact first
    # The input's own parameter works too (htmx sends it when picker.js is not loaded).
    assert _options(client.get(pick("org"), {"org_q": "第二支部"})) == [
        (str(cast.branch_a2.pk), "市财政局机关第二支部委员会（A2）")
    ]
    # Offices narrowed by the unit chosen beside them.
    # An office is in the list's scope once someone in scope works there.
    make_person(
        "吴芳", cast.unit_b, org=cast.branch_b1, office=Office.objects.create(unit=cast.unit_b, name="办公室")
    )
    labels = [
        label for _, label in _options(client.get(pick("office"), {"q": "办公室", "unit": cast.unit_b.pk}))
    ]
    assert labels == ["教育局 · 办公室"]
    assert client.get(pick("org"), {"q": ""}).content == b""


def test_it_answers_suggestions_in_a_fixed_number_of_queries(client, cast):
    client.force_login(cast.committee_admin)
    client.get(pick("org"), {"q": "支部"})
    few = [
        _count(client, pick(kind), {"q": q})[0]
        for kind, q in (("org", "支部"), ("unit", "局"), ("office", "处"))
    ]
    _plant(cast)
    many = [
        _count(client, pick(kind), {"q": q})[0]
        for kind, q in (("org", "支部"), ("unit", "局"), ("office", "处"))
    ]
    assert few == many
    assert max(many) <= 5  # session, user, grants, person — and the search


# --- placing a person: new person and transfer --------------------------------------------------


def test_it_places_a_new_person_by_typed_names_within_what_the_user_manages(client, cast):
    client.force_login(cast.org_admin)
    url = reverse("org:person_create")
    html = client.get(url).content.decode()
    assert '<select name="unit"' not in html and '<select name="org"' not in html
    assert f'hx-get="{pick("org")}?scope=placement"' in html
    data = {"name": "新人甲", "political_status": PoliticalStatus.CPC_MEMBER, "joined_on": "2015-06-01",
            "unit_q": "财政局", "office_q": "预算处", "org_q": "第一支部"}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, _errors(response)
    person = Person.objects.get(name="新人甲")
    assert (person.unit, person.office, person.org) == (cast.unit_a, cast.office_a2, cast.branch_a1)
    response = client.post(url, {**data, "name": "新人乙", "org_q": "教育局"})
    assert response.status_code == 422
    assert "没有找到名称包含“教育局”的党组织。请检查输入，或清空此项。" in _errors(response)
    response = client.post(url, {**data, "name": "新人乙", "unit_q": ""})
    assert "请填写单位：输入单位名称并从候选项中选择。" in _errors(response)
    assert not Person.objects.filter(name="新人乙").exists()


def test_it_shows_the_current_placement_in_the_transfer_pickers(client, cast):
    member = cast.person(cast.member)
    client.force_login(cast.committee_admin)
    html = client.get(reverse("org:person_transfer", args=[member.pk])).content.decode()
    assert f'name="unit" value="{cast.unit_a.pk}"' in html and 'value="市财政局"' in html
    assert f'name="office" value="{cast.office_a2.pk}"' in html and 'value="财政局 · 预算处"' in html
    assert 'value="市财政局机关第一支部委员会（A1）"' in html
    assert "<option" not in html
    data = {"on": "2026-06-01", "unit": cast.unit_a.pk, "unit_q": "市财政局", "office": cast.office_a2.pk,
            "office_q": "财政局 · 预算处", "org": cast.branch_a1.pk, "org_q": "第二支部", "version": member.version}  # fmt: skip
    assert client.post(reverse("org:person_transfer", args=[member.pk]), data).status_code == 302
    assert Person.objects.get(pk=member.pk).org == cast.branch_a2


# --- who may pick: the predicates live next to the scope rule (org.access) ----------------------

MANAGERS = {"committee_admin", "secretary_a", "secretary_b", "org_admin"}
SCOPED = MANAGERS | {"leader", "counselor", "counselor_backup", "union"}  # a post or grant beyond membership
OTHERS = {"member", "outsider", "sysadmin", "secadmin", "auditor"}


@pytest.mark.parametrize("who", sorted(SCOPED | OTHERS))
def test_it_decides_who_may_pick_with_the_scope_rules_predicates(cast, who, django_assert_num_queries):
    user = getattr(cast, who)
    own = access.scope_of(user).own_org_id
    with django_assert_num_queries(0):  # the scope is cached: no query
        manages, beyond = access.manages_any(user), access.sees_beyond_own_org(user)
    assert (manages, beyond) == (who in MANAGERS, who in SCOPED)
    # They agree with the Q builders beside them.
    assert manages == access.managed_orgs(user).exists()
    if not beyond:
        assert set(Org.objects.visible_to(user).values_list("pk", flat=True)) <= {own}
    assert pickers.scope_for("org", "placement").allowed is access.manages_any
    assert pickers.scope_for("org", "visible").allowed is access.sees_beyond_own_org
    # No second copy of the rules in the pickers.
    assert not any(hasattr(pickers, name) for name in ("may_manage", "may_pick_orgs", "managed_units"))
    assert not hasattr(org_forms, "managed_units")  # nor a wrapper of the rule in the forms


def test_it_narrows_offices_only_by_a_unit_in_scope(client, cast):
    """A narrowing pk is resolved within the user's scope: a unit out of scope narrows to nothing."""
    stray = Office.objects.create(unit=cast.unit_b, name="财务处")
    # In scope, with an office of unit B (inconsistent data the services refuse; here, what the
    # narrowing must not rely on).
    Person.objects.filter(pk=make_person("吴芳", cast.unit_a, org=cast.branch_a1).pk).update(office=stray)
    client.force_login(cast.secretary_a)
    assert _options(client.get(pick("office"), {"q": "财务处"})) == [(str(stray.pk), "教育局 · 财务处")]
    for unit in (cast.unit_b.pk, 999999):
        assert _options(client.get(pick("office"), {"q": "处", "unit": unit})) == []
    assert {
        label for _, label in _options(client.get(pick("office"), {"q": "处", "unit": cast.unit_a.pk}))
    } == {"财政局 · 预算处"}
    client.force_login(cast.org_admin)
    params = {"q": "处", "scope": "placement"}
    assert _options(client.get(pick("office"), {**params, "unit": cast.unit_b.pk})) == []
    assert _options(client.get(pick("office"), {**params, "unit": cast.unit_a.pk}))


# --- paging: one page parameter, none in the export ----------------------------------------------


def _href(response, text: str) -> str:
    [href] = re.findall(rf'href="([^"]*)"[^>]*>{text}</a>', response.content.decode())
    return href.replace("&amp;", "&")


def test_it_links_the_next_page_and_the_export_with_the_pk_and_one_page_parameter(client, cast):
    _plant(cast, 120)  # 127 people: three pages
    client.force_login(cast.committee_admin)
    response = client.get(PEOPLE, {"org_q": "ROOT", "org": "", "sort": "name", "page": 2})
    assert response.status_code == 200 and response.context["page"].number == 2
    assert _href(response, "下一页") == f"?org={cast.root.pk}&sort=name&page=3"
    assert _href(response, "上一页") == f"?org={cast.root.pk}&sort=name&page=1"
    export = _href(response, "导出 Excel")
    assert export == f"{reverse('org:people_export')}?org={cast.root.pk}&sort=name"
    assert "page=" not in export
    # A link without typed text: the page parameter is still there only once.
    response = client.get(PEOPLE, {"page": 2})
    assert _href(response, "下一页") == "?page=3" and "page" not in _href(response, "导出 Excel")


# --- accessibility: a status line, and no empty listbox ------------------------------------------


def test_it_says_what_was_found_in_a_status_line_not_in_the_listbox(client, cast):
    client.force_login(cast.committee_admin)
    html = _filters(client.get(PEOPLE))
    for name in ("unit", "office", "org"):
        assert f'id="id_{name}_list" role="listbox" aria-label="' in html
        assert re.search(rf'id="id_{name}_list" role="listbox" aria-label="[^"]*" hidden>', html)
        assert f'id="id_{name}_list_status" role="status" aria-live="polite"' in html
        assert f'id="id_{name}_list_note" aria-hidden="true" data-sz-picker-note hidden>' in html
    headers = {"HX-Request": "true", "HX-Target": "id_org_list"}

    def parts(params) -> tuple[str, str, str]:
        body = client.get(pick("org"), params, headers=headers).content.decode()
        listbox = body.split("<div", 1)[0]  # the options; the rest is swapped out of band
        note = re.search(r'id="id_org_list_note"[^>]*>([^<]*)</div>', body)[1]
        status = re.search(r'hx-swap-oob="innerHTML:#id_org_list_status">([^<]*)</div>', body)[1]
        return listbox, note, status

    listbox, note, status = parts({"q": "第二支部"})
    assert listbox.count('role="option"') == 1 and note == ""
    assert status == "找到 1 个，用上下方向键选择。"
    listbox, note, status = parts({"q": "火星"})
    assert listbox.strip() == "" and "presentation" not in listbox
    assert note == status == "没有找到名称包含“火星”的党组织，请换个说法再试。"
    _plant(cast, 30)
    listbox, note, status = parts({"q": "新增支部"})
    assert listbox.count('role="option"') == 20 and "presentation" not in listbox
    assert note == "只显示前 20 个，请输入更完整的名称。"
    assert status == "找到 20 个以上，只显示前 20 个，用上下方向键选择，或输入更完整的名称。"


def test_it_renders_no_listbox_where_there_are_no_suggestions(cast):
    """A member has no people list and sees one org: the pickers are plain text inputs."""
    html = str(PeopleFilterForm({}, user=cast.member)["org"]) + str(
        PeopleFilterForm({}, user=cast.member)["unit"]
    )
    assert 'name="org_q"' in html and 'name="org"' in html
    for absent in ('role="listbox"', 'role="combobox"', "aria-controls", "hx-get", 'role="status"'):
        assert absent not in html
