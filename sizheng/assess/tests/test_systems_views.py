"""The indicator-system screens: who sees and changes what (404 / 403), writes with audit, 409, 422,
the import's dry run and confirmation, flat query counts."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from sizheng.assess import systems, tableio
from sizheng.assess.models import Indicator, IndicatorSystem, SystemState
from sizheng.assess.tests.conftest import build_small_system
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _audited(action: str, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    return (qs.filter(object_id=str(obj.pk)) if obj is not None else qs).exists()


@pytest.fixture
def draft(db):
    return build_small_system(year=2027, state=SystemState.DRAFT)


def _indicator_data(**kw):
    data = {"parent": "", "code": "3", "name": "作风建设", "kind": "scored", "weight": "0", "order": "",
            "key_points": "", "method_text": "", "source": "assessor", "metric_name": "", "rule_kind": "direct",
            "max_score": "10", "zero_at": "", "full_at": "", "per_event": "", "max_deduction": "", "bands": ""}  # fmt: skip
    data.update(kw)
    return data


# --- list ----------------------------------------------------------------------------------------


def test_the_list_shows_drafts_to_editors_and_published_systems_to_readers(client, cast, small_system, draft):
    client.force_login(cast.committee_admin)
    html = client.get(reverse("assess:systems")).content.decode()
    assert html.count("测试体系") == 2 and "从内置体系创建" in html and "导入评分表" in html
    for user in (cast.leader, cast.secretary_a):
        client.force_login(user)
        response = client.get(reverse("assess:systems"))
        html = response.content.decode()
        assert response.status_code == 200 and html.count("测试体系") == 1, user
        assert reverse("assess:system", args=[small_system.pk]) in html
        assert reverse("assess:system", args=[draft.pk]) not in html and "从内置体系创建" not in html
    client.force_login(cast.sysadmin)
    assert "测试体系" not in client.get(reverse("assess:systems")).content.decode()


def test_the_list_searches_and_filters(client, cast, small_system, draft):
    systems.builtin("classify", 2026, actor=None)
    client.force_login(cast.committee_admin)
    url = reverse("assess:systems")
    html = client.get(url, {"q": "分类定级"}).content.decode()
    assert "基层党组织分类定级</a>" in html and "测试体系" not in html
    html = client.get(url, {"year": "2027"}).content.decode()
    assert reverse("assess:system", args=[draft.pk]) in html and "基层党组织分类定级</a>" not in html
    html = client.get(url, {"state": "draft"}).content.decode()
    assert reverse("assess:system", args=[draft.pk]) in html
    assert reverse("assess:system", args=[small_system.pk]) not in html
    html = client.get(url, {"kind": "thought"}).content.decode()
    assert "没有符合条件的测评体系" in html


def test_the_list_query_count_stays_flat(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    build_small_system(year=2020)
    client.get(reverse("assess:systems"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("assess:systems"))
    for year in range(2001, 2013):
        build_small_system(year=year)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("assess:systems"))
    assert response.content.decode().count("测试体系") == 13


def test_an_empty_list_says_what_to_do(client, cast):
    client.force_login(cast.committee_admin)
    assert "从内置体系创建”可直接使用" in client.get(reverse("assess:systems")).content.decode()
    client.force_login(cast.leader)
    assert "还没有已发布的测评体系" in client.get(reverse("assess:systems")).content.decode()


# --- detail and export ---------------------------------------------------------------------------


def test_the_detail_page_shows_the_tree_with_subtotals_and_editor_buttons(client, cast, draft):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("assess:system", args=[draft.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="sz-total" data-points="100"' in html and "小计 60" in html and "小计 40" in html
    assert "100% 及以上得满分" in html and "每项扣 5 分，最多扣 20 分" in html
    assert "满意率低于 90%" in html and "加分项（合计最多加 4 分）" in html
    for name in ("system_publish", "system_edit", "system_copy", "indicator_new", "system_export",
                 "weightsets", "session_new"):  # fmt: skip
        assert reverse(f"assess:{name}", args=[draft.pk]) in html, name
    leaf = draft.indicators.get(code="1.1")
    assert reverse("assess:indicator_edit", args=[leaf.pk]) in html
    assert "权重和计分规则检查通过" in html


def test_the_detail_page_lists_what_blocks_publication(client, cast, draft):
    Indicator.objects.filter(system=draft, code="1.1").update(weight=0.2)
    client.force_login(cast.committee_admin)
    html = client.get(reverse("assess:system", args=[draft.pk])).content.decode()
    assert "还不能发布" in html and "“党建责任”（1）的下级指标的权重之和为 0.7，应为 1" in html


def test_readers_see_published_systems_without_edit_buttons(client, cast, small_system, draft):
    for user in (cast.leader, cast.secretary_a):
        client.force_login(user)
        html = client.get(reverse("assess:system", args=[small_system.pk])).content.decode()
        assert "党建责任" in html and reverse("assess:system_export", args=[small_system.pk]) in html
        for name in ("system_edit", "system_copy", "indicator_new", "system_archive", "weightsets"):
            assert reverse(f"assess:{name}", args=[small_system.pk]) not in html, name
        assert client.get(reverse("assess:system", args=[draft.pk])).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(reverse("assess:system", args=[draft.pk])).status_code == 404
    assert client.get(reverse("assess:system_export", args=[draft.pk])).status_code == 404
    client.force_login(cast.sysadmin)
    assert client.get(reverse("assess:system", args=[small_system.pk])).status_code == 404


def test_the_export_is_an_audited_xlsx(client, cast, small_system):
    client.force_login(cast.leader)
    response = client.get(reverse("assess:system_export", args=[small_system.pk]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    report = tableio.import_table(response.content, actor=None, name="再导入", year=2026, dry_run=True)
    assert report.ok and len(report.plan) == 8
    assert _audited("assess_system_export", small_system)


# --- creating and versions -----------------------------------------------------------------------


def test_the_committee_creates_a_shipped_system(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("assess:system_builtin")
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "thought", "year": "2026", "publish": "on"})
    system = IndicatorSystem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assess:system", args=[system.pk])
    assert system.state == SystemState.PUBLISHED and system.kind == "thought"
    assert _audited("assess_system_builtin", system)
    assert client.post(url, {"kind": "nonsense", "year": "2026"}).status_code == 422
    for user in (cast.secretary_a, cast.leader):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"kind": "classify", "year": "2026"}).status_code == 403
    assert IndicatorSystem.objects.count() == 1


def test_a_blank_system_is_created_and_its_settings_edited(client, cast):
    client.force_login(cast.committee_admin)
    data = {"name": "处室思政测评", "year": "2026", "kind": "custom", "description": "试行",
            "grade_bands": "优秀 90\n良好 75\n一般", "caps": "", "bonus_cap": "3", "self_share": "30",
            "missing_policy": "zero"}  # fmt: skip
    response = client.post(reverse("assess:system_new"), data)
    system = IndicatorSystem.objects.get()
    assert response.status_code == 302 and system.state == SystemState.DRAFT
    assert system.grade_bands == [{"grade": "优秀", "min": 90}, {"grade": "良好", "min": 75},
                                  {"grade": "一般", "min": None}]  # fmt: skip
    assert system.self_share == pytest.approx(0.3) and _audited("assess_system_create", system)
    bad = client.post(reverse("assess:system_new"), {**data, "grade_bands": "优秀 70\n良好 75\n一般"})
    assert bad.status_code == 422 and "从高到低" in bad.content.decode()
    url = reverse("assess:system_edit", args=[system.pk])
    edit = {k: v for k, v in data.items() if k not in ("year", "kind")}
    response = client.post(url, {**edit, "bonus_cap": "2", "version": system.version})
    system.refresh_from_db()
    assert response.status_code == 302 and system.bonus_cap == 2 and _audited("assess_system_update", system)
    stale = client.post(url, {**edit, "bonus_cap": "1", "version": 1})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    client.force_login(cast.secretary_a)
    assert client.get(reverse("assess:system_new")).status_code == 403


def test_published_systems_are_not_edited_on_the_page(client, cast, small_system):
    client.force_login(cast.committee_admin)
    leaf = small_system.indicators.get(code="1.1")
    for url in (reverse("assess:system_edit", args=[small_system.pk]),
                reverse("assess:indicator_new", args=[small_system.pk]),
                reverse("assess:indicator_edit", args=[leaf.pk]),
                reverse("assess:indicator_delete", args=[leaf.pk])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 403 and "复制为新版本" in response.content.decode(), url
    assert client.post(reverse("assess:indicator_delete", args=[leaf.pk]), {"version": 1}).status_code == 403
    assert Indicator.objects.filter(pk=leaf.pk).exists()


def test_copy_to_the_next_year(client, cast, small_system):
    client.force_login(cast.committee_admin)
    url = reverse("assess:system_copy", args=[small_system.pk])
    assert 'value="2027" selected' in client.get(url).content.decode()
    response = client.post(url, {"year": "2027"})
    copy = IndicatorSystem.objects.get(year=2027)
    assert response.status_code == 302 and copy.based_on == small_system and copy.state == SystemState.DRAFT
    assert copy.indicators.count() == 8 and _audited("assess_system_copy", copy)
    client.force_login(cast.leader)
    assert client.get(url).status_code == 403
    assert client.post(url, {"year": "2028"}).status_code == 403
    client.force_login(cast.sysadmin)
    assert client.post(url, {"year": "2028"}).status_code == 404
    assert IndicatorSystem.objects.count() == 2


def test_publish_asks_for_confirmation_and_refuses_wrong_weights(client, cast, draft):
    client.force_login(cast.committee_admin)
    url = reverse("assess:system_publish", args=[draft.pk])
    Indicator.objects.filter(system=draft, code="2.2").update(weight=0.5)
    page = client.get(url).content.decode()
    assert "还不能发布" in page and "“群众满意”（2）的下级指标的权重之和为 1.2" in page
    response = client.post(url, {"version": draft.version})
    assert response.status_code == 422 and "1.2" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == SystemState.DRAFT
    Indicator.objects.filter(system=draft, code="2.2").update(weight=0.3)
    assert "确认发布" in client.get(url).content.decode()
    assert client.post(url, {"version": draft.version + 1}).status_code == 409
    response = client.post(url, {"version": draft.version})
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.state == SystemState.PUBLISHED
    assert _audited("assess_system_publish", draft)
    client.force_login(cast.leader)
    assert (
        client.post(reverse("assess:system_archive", args=[draft.pk]), {"version": draft.version}).status_code
        == 403
    )
    client.force_login(cast.committee_admin)
    assert "确认停用" in client.get(reverse("assess:system_archive", args=[draft.pk])).content.decode()
    response = client.post(reverse("assess:system_archive", args=[draft.pk]), {"version": draft.version})
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.state == SystemState.ARCHIVED


# --- indicators ----------------------------------------------------------------------------------


def test_an_indicator_is_added_changed_and_deleted_on_the_page(client, cast, draft):
    client.force_login(cast.committee_admin)
    top1 = draft.indicators.get(code="1")
    page = client.get(reverse("assess:indicator_new", args=[draft.pk]), {"parent": top1.pk}).content.decode()
    assert 'value="1.3"' in page and "systems.js" in page
    url = reverse("assess:indicator_new", args=[draft.pk])
    data = _indicator_data(parent=top1.pk, code="1.3", name="学习覆盖", source="metric",
                           metric_name="study.hours_coverage", rule_kind="linear", zero_at="60", full_at="100",
                           version=draft.version)  # fmt: skip
    response = client.post(url, data)
    ind = Indicator.objects.get(system=draft, code="1.3")
    assert response.status_code == 302 and ind.rule == {"zero_at": 60, "full_at": 100}
    assert ind.metric_name == "study.hours_coverage" and _audited("assess_indicator_create", ind)
    draft.refresh_from_db()
    bands = _indicator_data(parent=top1.pk, code="1.3", name="学习覆盖", rule_kind="bands",
                            bands="90 100\n60 60\n其余 0", version=draft.version)  # fmt: skip
    response = client.post(reverse("assess:indicator_edit", args=[ind.pk]), bands)
    ind.refresh_from_db()
    assert response.status_code == 302
    assert ind.rule == {
        "bands": [{"min": 90, "score": 100}, {"min": 60, "score": 60}, {"min": None, "score": 0}]
    }
    assert ind.source == "assessor" and ind.metric_name == ""
    delete_url = reverse("assess:indicator_delete", args=[top1.pk])
    page = client.get(delete_url).content.decode()
    assert "3 项下级指标会一并删除" in page and "1.3 学习覆盖" in page
    draft.refresh_from_db()
    response = client.post(delete_url, {"version": draft.version})
    assert response.status_code == 302 and not draft.indicators.filter(code__startswith="1").exists()
    assert _audited("assess_indicator_delete", top1)


def test_the_indicator_form_explains_bad_input(client, cast, draft):
    client.force_login(cast.committee_admin)
    url = reverse("assess:indicator_new", args=[draft.pk])
    cases = [
        (_indicator_data(rule_kind="linear", zero_at="5"), "零分点"),
        (_indicator_data(rule_kind="bands", bands="90 100\n80 80"), "其余"),
        (_indicator_data(rule_kind="bands", bands="九十 100"), "不是数字"),
        (_indicator_data(code="1.1"), "已被指标“责任清单完成”使用"),
        (_indicator_data(source="metric", metric_name=""), "须选择"),
        (_indicator_data(source="metric", metric_name="wellbeing.severe_share"), "wellbeing.severe_share"),
    ]
    for data, message in cases:
        response = client.post(url, {**data, "version": draft.version})
        assert response.status_code == 422 and message in response.content.decode(), message
    assert not draft.indicators.filter(name="作风建设").exists()
    stale = client.post(url, {**_indicator_data(), "version": draft.version - 1 or 99})
    assert stale.status_code == 409


def test_readers_and_outsiders_cannot_touch_indicators(client, cast, small_system, draft):
    leaf = draft.indicators.get(code="1.1")
    client.force_login(cast.outsider)
    for url in (reverse("assess:indicator_new", args=[draft.pk]), reverse("assess:indicator_edit", args=[leaf.pk]),
                reverse("assess:indicator_delete", args=[leaf.pk])):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(reverse("assess:indicator_delete", args=[leaf.pk]), {"version": 1}).status_code == 404
    published_leaf = small_system.indicators.get(code="1.1")
    client.force_login(cast.leader)
    response = client.get(reverse("assess:indicator_edit", args=[published_leaf.pk]))
    assert response.status_code == 403 and "没有修改的权限" in response.content.decode()
    assert Indicator.objects.filter(pk=leaf.pk).exists()


# --- import --------------------------------------------------------------------------------------


def _table(rows) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(["一级指标", "二级指标", "评分要点", "评分办法", "分值"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("评分表.xlsx", buf.getvalue(), content_type=XLSX)


def test_an_import_is_previewed_then_confirmed(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("assess:system_import")
    assert client.get(url).status_code == 200
    upload = _table(
        [["党建（60分）", "学习", "", "", 40], [None, "组织生活", "", "", 20], ["满意度", None, "", "", 40]]
    )
    response = client.post(url, {"file": upload, "name": "导入的体系", "year": "2026"})
    html = response.content.decode()
    assert response.status_code == 200 and "确认导入" in html and "组织生活" in html
    assert not IndicatorSystem.objects.exists()
    token = client.session[tableio_session_key()]["token"]
    response = client.post(reverse("assess:system_import_confirm"), {"token": token})
    system = IndicatorSystem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assess:system", args=[system.pk])
    assert (
        system.name == "导入的体系" and system.indicators.count() == 4 and systems.weight_errors(system) == []
    )
    assert _audited("assess_system_import", system)
    again = client.post(reverse("assess:system_import_confirm"), {"token": token})
    assert again.status_code == 409 and "重新上传" in again.content.decode()
    assert IndicatorSystem.objects.count() == 1


def test_an_import_with_errors_lists_them_by_row_and_writes_nothing(client, cast):
    client.force_login(cast.committee_admin)
    upload = _table([[None, "学习", "", "", 40], ["满意度", None, "", "", "四十"]])
    response = client.post(reverse("assess:system_import"), {"file": upload, "name": "坏表", "year": "2026"})
    html = response.content.decode()
    assert response.status_code == 422 and "第 2 行：一级指标为空" in html and "第 3 行：分值" in html
    assert "确认导入" not in html and not IndicatorSystem.objects.exists()
    fake = SimpleUploadedFile("表.xlsx", b"not a zip", content_type=XLSX)
    response = client.post(reverse("assess:system_import"), {"file": fake, "name": "坏表", "year": "2026"})
    assert response.status_code == 422 and "不是有效的 Excel" in response.content.decode()
    client.force_login(cast.secretary_a)
    assert client.get(reverse("assess:system_import")).status_code == 403
    assert client.post(reverse("assess:system_import_confirm"), {"token": "x"}).status_code == 403


def tableio_session_key() -> str:
    from sizheng.assess.views_systems import IMPORT_SESSION_KEY

    return IMPORT_SESSION_KEY
