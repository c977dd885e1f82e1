"""The round screens: who sees what (404 / 403), the forms (422 / 409), writes with audit, evidence
upload and download, read-only personas, empty states and flat query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import sizheng.assess.files  # noqa: F401  (registers the evidence download rule, as ready() will)
from sizheng.assess import rounds
from sizheng.assess.models import Assessment, AssessorAssignment, Entry, Indicator, RoundState, Target
from sizheng.assess.tests.test_rounds import (
    _media,  # noqa: F401
    _today,  # noqa: F401
    audited,
    fill_assessor,
    ind,
    make_round,
    opened_round,
    pdf,
    png,
    target_of,
)
from sizheng.core.models import Role, RoleGrant, StoredFile, User
from sizheng.core.testing import TEST_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today", "_media")]


def other_assessor() -> User:
    user = User.objects.create_user(username="kaohe2", password=TEST_PASSWORD)
    RoleGrant.objects.create(user=user, role=Role.ASSESSOR, scope_kind=RoleGrant.ScopeKind.ALL)
    return user


def publish_directly(a: Assessment) -> None:
    Assessment.objects.filter(pk=a.pk).update(state=RoundState.PUBLISHED)
    a.refresh_from_db()


def round_data(ac, system, **kw):
    data = {"title": "2026年度分类定级", "system": system.pk, "weight_set": "", "owner_org": ac.root.pk,
            "period_start": "2026-01-01", "period_end": "2026-12-31", "self_due_on": "2026-12-20",
            "scoring_due_on": "2026-12-28", "democratic_survey": "", "rectify_below": "60"}  # fmt: skip
    data.update(kw)
    return data


# --- list and set-up -----------------------------------------------------------------------------


def test_the_committee_creates_a_round_and_lands_on_its_targets(client, ac, small_system):
    client.force_login(ac.committee_admin)
    url = reverse("assess:round_new")
    assert client.get(url).status_code == 200
    response = client.post(url, round_data(ac, small_system, period_end="2025-01-01"))
    assert response.status_code == 422 and "考核期结束日期不能早于开始日期" in response.content.decode()
    response = client.post(url, round_data(ac, small_system))
    a = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "assess:round_targets", args=[a.pk]
    )
    assert a.targets.count() == 3 and audited("assess_round_create", a)
    html = client.get(response["Location"]).content.decode()
    assert "市财政局机关委员会" in html and "市财政局党组" in html and "直属" in html
    for user in (ac.leader, ac.outsider, ac.assessor, ac.member):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_the_list_shows_rounds_by_business_and_filters(client, ac, small_system):
    a = make_round(ac, small_system, title="甲轮次")
    make_round(ac, small_system, title="乙轮次", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    client.force_login(ac.committee_admin)
    html = client.get(reverse("assess:rounds")).content.decode()
    assert "甲轮次" in html and "乙轮次" in html
    html = client.get(reverse("assess:rounds"), {"year": "2025"}).content.decode()
    assert "甲轮次" not in html and "乙轮次" in html
    html = client.get(reverse("assess:rounds"), {"q": "甲", "state": "draft"}).content.decode()
    assert "甲轮次" in html and "乙轮次" not in html
    html = client.get(reverse("assess:rounds"), {"q": "丙"}).content.decode()
    assert "没有符合条件的考核轮次" in html
    for user in (ac.leader, ac.outsider, ac.unit_boss):
        client.force_login(user)
        html = client.get(reverse("assess:rounds")).content.decode()
        assert "甲轮次" not in html and "目前没有与您相关的考核轮次" in html or user == ac.unit_boss
    publish_directly(a)
    client.force_login(ac.leader)
    html = client.get(reverse("assess:rounds")).content.decode()
    assert "甲轮次" in html and "新建考核轮次" not in html


def test_the_round_list_query_count_stays_flat(client, ac, small_system, django_assert_max_num_queries):
    client.force_login(ac.committee_admin)
    make_round(ac, small_system, title="轮次0")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("assess:rounds")).status_code == 200
    for i in range(1, 8):
        make_round(ac, small_system, title=f"轮次{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("assess:rounds")).content.decode()
    assert "轮次7" in html


def test_editing_targets_with_a_filter_keeps_hidden_choices(client, ac, small_system):
    a = make_round(ac, small_system)
    client.force_login(ac.committee_admin)
    url = reverse("assess:round_targets", args=[a.pk])
    html = client.get(url, {"q": "教育"}).content.decode()
    assert "市教育局机关总支部委员会" in html and "市司法局机关支部委员会" not in html
    assert f'type="hidden" name="orgs" value="{ac.branch_c.pk}"' in html
    response = client.post(url, {"orgs": [ac.committee_a.pk, ac.branch_b1.pk], "version": a.version})
    assert response.status_code == 302
    assert set(a.targets.values_list("org_id", flat=True)) == {ac.committee_a.pk, ac.branch_b1.pk}
    assert client.post(url, {"orgs": [ac.branch_c.pk], "version": 1}).status_code == 409
    response = client.post(url, {"orgs": [], "version": a.version + 1})
    assert response.status_code == 422 and "请至少选择一个被考核的党组织" in response.content.decode()


def test_assigning_and_unassigning_assessors_on_the_page(client, ac, small_system):
    a = make_round(ac, small_system)
    client.force_login(ac.committee_admin)
    url = reverse("assess:round_assessors", args=[a.pk])
    assert "kaohe" in client.get(url).content.decode()
    t_ids = list(a.targets.values_list("pk", flat=True))
    response = client.post(url, {"action": "assign", "user": ac.assessor.pk, "targets": t_ids})
    assert response.status_code == 302 and AssessorAssignment.objects.count() == 3
    response = client.post(url, {"action": "assign", "user": ac.expert.pk, "targets": t_ids})
    assert response.status_code == 422  # not an assessor: not a choice
    response = client.post(url, {"action": "unassign", "target": t_ids[0], "user": ac.assessor.pk})
    assert response.status_code == 302 and AssessorAssignment.objects.count() == 2
    assert audited("assess_unassign")


# --- the state machine on the page ---------------------------------------------------------------


def test_opening_locking_and_reopening_through_confirm_pages(client, ac, small_system):
    a = make_round(ac, small_system)
    client.force_login(ac.committee_admin)
    open_url = reverse("assess:round_open", args=[a.pk])
    assert "开启后" in client.get(open_url).content.decode()
    response = client.post(open_url, {"version": a.version})
    assert response.status_code == 422 and "还没有分配考核组成员" in response.content.decode()
    for t in a.targets.all():
        rounds.assign(a, target=t, user=ac.assessor, actor=ac.committee_admin)
    assert client.post(open_url, {"version": a.version - 1}).status_code == 409
    response = client.post(open_url, {"version": a.version})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.state == RoundState.OPEN
    lock_url = reverse("assess:round_lock", args=[a.pk])
    html = client.get(lock_url).content.decode()
    assert "3</strong> 个单位未提交自评" in html
    client.force_login(ac.unit_boss)  # sees the open round (own unit) but does not manage it
    assert client.get(reverse("assess:round", args=[a.pk])).status_code == 200
    assert client.post(lock_url, {"version": a.version}).status_code == 403
    client.force_login(ac.committee_admin)
    assert client.post(lock_url, {"version": a.version}).status_code == 302
    a.refresh_from_db()
    assert a.state == RoundState.LOCKED
    response = client.post(reverse("assess:round_publish", args=[a.pk]), {"version": a.version})
    assert response.status_code == 422 and "请先计算结果" in response.content.decode()
    assert client.post(reverse("assess:round_reopen", args=[a.pk]), {"version": a.version}).status_code == 302
    a.refresh_from_db()
    assert a.state == RoundState.OPEN and audited("assess_round_reopen", a)


def test_compute_and_publish_through_the_pages(client, ac, small_system):
    pytest.importorskip(
        "sizheng.assess.engine", reason="sizheng.assess.engine (engine helper) not integrated yet"
    )
    pytest.importorskip(
        "sizheng.assess.results", reason="sizheng.assess.results (results helper) not integrated yet"
    )
    a = opened_round(ac, small_system, use_topsis=True)
    t = target_of(a, ac.committee_a)
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95)
    for other in a.targets.exclude(pk=t.pk):
        fill_assessor(ac, target_of(a, other.org), small_system, **{"1.2": 4})
    fill_assessor(ac, t, small_system)
    rounds.lock(a, actor=ac.committee_admin, version=a.version)
    client.force_login(ac.committee_admin)
    assert (
        client.post(reverse("assess:round_compute", args=[a.pk]), {"version": a.version}).status_code == 302
    )
    a.refresh_from_db()
    assert a.state == RoundState.COMPUTED
    html = client.get(reverse("assess:round", args=[a.pk])).content.decode()
    assert "发布结果" in html
    assert (
        client.post(reverse("assess:round_publish", args=[a.pk]), {"version": a.version}).status_code == 302
    )
    a.refresh_from_db()
    assert a.state == RoundState.PUBLISHED
    if (a.record.get("topsis") or {}).get("reference") is not None:
        assert a.record["topsis_reference"] == a.record["topsis"]["reference"]


def test_the_leader_reads_a_published_round_only(client, ac, small_system):
    a = opened_round(ac, small_system)
    client.force_login(ac.leader)
    assert client.get(reverse("assess:round", args=[a.pk])).status_code == 404
    publish_directly(a)
    html = client.get(reverse("assess:round", args=[a.pk])).content.decode()
    assert "市财政局机关委员会" in html and "锁定轮次" not in html and "修改设置" not in html
    assert client.post(reverse("assess:round_reopen", args=[a.pk]), {"version": a.version}).status_code == 403
    assert client.get(reverse("assess:round_edit", args=[a.pk])).status_code == 403
    t = target_of(a, ac.committee_a)
    html = client.get(reverse("assess:target", args=[t.pk])).content.decode()
    assert "自评材料和评分只向被考核单位" in html
    assert client.get(reverse("assess:target_self", args=[t.pk])).status_code == 403
    assert client.get(reverse("assess:target", args=[target_of(a, ac.branch_c).pk])).status_code == 404


def test_outsiders_get_404_everywhere(client, ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    client.force_login(ac.outsider)
    for name in ("round", "round_edit", "round_targets", "round_assessors", "round_open", "round_lock"):
        assert client.get(reverse(f"assess:{name}", args=[a.pk])).status_code == 404, name
    for name in ("target", "target_self", "target_score"):
        assert client.get(reverse(f"assess:{name}", args=[t.pk])).status_code == 404, name
    client.force_login(other_assessor())
    for name in ("target", "target_self", "target_score"):
        assert client.get(reverse(f"assess:{name}", args=[t.pk])).status_code == 404, name
    assert client.get(reverse("assess:round", args=[a.pk])).status_code == 404


# --- tasks ---------------------------------------------------------------------------------------


def test_my_tasks_for_an_assessor_and_a_unit_manager(client, ac, small_system):
    client.force_login(ac.assessor)
    html = client.get(reverse("assess:my_tasks")).content.decode()
    assert "您目前没有进行中的考核评分任务" in html
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    fill_assessor(ac, t, small_system)
    html = client.get(reverse("assess:my_tasks")).content.decode()
    assert "已填 5 / 5 项" in html and "已填 0 / 5 项" in html and "2026-12-28" in html
    client.force_login(ac.unit_boss)
    html = client.get(reverse("assess:my_tasks")).content.decode()
    assert (
        "本单位自评（1）" in html and "已填 0 / 1 项" in html and "填写自评" in html and "2026-12-20" in html
    )
    assert "考核组评分（" not in html  # a unit's secretary has no scoring tab
    assert "考核组评分（" not in client.get(reverse("assess:my_tasks") + "?tab=score").content.decode()
    client.force_login(ac.leader)
    html = client.get(reverse("assess:my_tasks")).content.decode()
    assert "没有" in html and "市财政局机关委员会" not in html


def test_my_tasks_query_count_stays_flat(client, ac, small_system, django_assert_max_num_queries):
    client.force_login(ac.assessor)
    opened_round(ac, small_system)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("assess:my_tasks")).status_code == 200
    for _ in range(3):
        opened_round(ac, small_system)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("assess:my_tasks")).content.decode()
    assert html.count("已填 0 / 5 项") == 12


def test_the_round_detail_query_count_stays_flat(client, ac, small_system, django_assert_max_num_queries):
    a = opened_round(ac, small_system)
    client.force_login(ac.committee_admin)
    url = reverse("assess:round", args=[a.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    from sizheng.org.testing import make_org

    orgs = [make_org(f"新支部{i}", "branch", ac.root, f"N{i}", units=[ac.unit_c]) for i in range(5)]
    Target.objects.bulk_create([Target(assessment=a, org=o, unit=ac.unit_c) for o in orgs])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert "新支部4" in html


# --- entries -------------------------------------------------------------------------------------


def test_the_unit_saves_a_draft_with_evidence_and_submits(client, ac, small_system):
    Indicator.objects.filter(system=small_system, code="2.1").update(evidence_required=True)
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    i21 = ind(small_system, "2.1")
    client.force_login(ac.unit_boss)
    url = reverse("assess:target_self", args=[t.pk])
    html = client.get(url).content.decode()
    assert "比率（%，0—100）" in html and "达到 90% 得满分的 100%" in html and "须上传佐证" in html
    response = client.post(url, {f"v_{i21.pk}": "120", f"n_{i21.pk}": "", "action": "save"})
    assert response.status_code == 422 and not Entry.objects.exists()
    response = client.post(url, {f"v_{i21.pk}": "95", f"n_{i21.pk}": "问卷", "action": "submit"})
    assert response.status_code == 422
    assert "草稿已保存，但还不能提交" in response.content.decode()
    assert "须上传佐证材料后才能提交" in response.content.decode()
    e = Entry.objects.get(target=t, side="self")
    assert e.value == 95 and e.note == "问卷"
    response = client.post(url, {f"v_{i21.pk}": "95", f"n_{i21.pk}": "问卷", f"ver_{i21.pk}": e.version,
                                 f"f_{i21.pk}": [pdf(), png()], "action": "submit"})  # fmt: skip
    assert response.status_code == 302
    t.refresh_from_db()
    assert t.self_submitted_at is not None and audited("assess_self_submit", t)
    files = StoredFile.objects.filter(owner_kind="assess.entry", owner_id=e.pk)
    assert files.count() == 2
    html = client.get(url).content.decode()
    assert "已提交，不能再修改" in html and "佐证.pdf" in html and 'type="file"' not in html
    assert client.post(url, {f"v_{i21.pk}": "90", "action": "save"}).status_code == 403
    # downloads: the unit, the assessor and the round's managers; nobody else
    uid = files.first().uid
    for user, status in ((ac.unit_boss, 200), (ac.assessor, 200), (ac.committee_admin, 200),
                         (ac.outsider, 404), (ac.secretary_b, 404), (ac.leader, 404), (other_assessor(), 404)):  # fmt: skip
        client.force_login(user)
        assert client.get(reverse("core:file", args=[uid])).status_code == status, user


def test_a_stale_entry_form_gets_409(client, ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    i21 = ind(small_system, "2.1")
    rounds.save_entry(actor=ac.committee_admin, target=t, indicator=i21, side="self", value=80)
    client.force_login(ac.unit_boss)
    url = reverse("assess:target_self", args=[t.pk])
    rounds.save_entry(actor=ac.committee_admin, target=t, indicator=i21, side="self", value=85)
    response = client.post(url, {f"v_{i21.pk}": "95", f"ver_{i21.pk}": "1", "action": "save"})
    assert response.status_code == 409 and Entry.objects.get(target=t, side="self").value == 85


def test_the_assessor_scores_next_to_the_self_assessment(client, ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    S = small_system
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(S, "2.1"), side="self", value=93,
                      note="单位自评说明", files=[pdf()])  # fmt: skip
    client.force_login(ac.assessor)
    url = reverse("assess:target_score", args=[t.pk])
    html = client.get(url).content.decode()
    assert "单位自评说明" in html and "93%" in html and "佐证.pdf" in html and "得分（0—10 分）" in html
    data = {f"v_{ind(S, '1.2').pk}": "8", f"v_{ind(S, '2.1').pk}": "92", f"v_{ind(S, '2.2').pk}": "1",
            f"v_{ind(S, 'B1').pk}": "2", f"v_{ind(S, 'V1').pk}": "1", f"n_{ind(S, '1.2').pk}": "考核组意见甲",
            "action": "submit"}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 422 and "选择“是”时" in response.content.decode()
    assert not Entry.objects.filter(side="assessor").exists()  # nothing saved when an item is refused
    data[f"v_{ind(S, 'V1').pk}"] = "0"
    assert client.post(url, data).status_code == 302
    assert Entry.objects.filter(side="assessor", entered_by=ac.assessor).count() == 5
    assert AssessorAssignment.objects.get(target=t, user=ac.assessor).submitted_at is not None
    # the unit never sees the assessors' entries before publication; the managers do
    client.force_login(ac.unit_boss)
    html = client.get(reverse("assess:target", args=[t.pk])).content.decode()
    assert "单位自评说明" in html and "考核组评分" not in html and "8 分" not in html
    assert client.get(url).status_code == 403
    client.force_login(ac.committee_admin)
    html = client.get(reverse("assess:target", args=[t.pk])).content.decode()
    assert "考核组评分（平均）" in html and "8 分" in html
    publish_directly(a)
    client.force_login(ac.unit_boss)
    html = client.get(reverse("assess:target", args=[t.pk])).content.decode()
    assert "考核组评分（平均）" in html and "8 分" in html


def test_assessor_evidence_stays_hidden_from_the_unit_until_published(client, ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    e = rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(small_system, "1.2"), side="assessor",
                          value=6, files=[pdf("现场检查记录.pdf")])  # fmt: skip
    uid = StoredFile.objects.get(owner_kind="assess.entry", owner_id=e.pk).uid
    client.force_login(ac.unit_boss)
    assert client.get(reverse("core:file", args=[uid])).status_code == 404
    client.force_login(ac.committee_admin)
    assert client.get(reverse("core:file", args=[uid])).status_code == 200
    publish_directly(a)
    client.force_login(ac.unit_boss)
    assert client.get(reverse("core:file", args=[uid])).status_code == 200


def test_editing_a_round_on_the_page(client, ac, small_system):
    a = opened_round(ac, small_system)
    client.force_login(ac.committee_admin)
    url = reverse("assess:round_edit", args=[a.pk])
    html = client.get(url).content.decode()
    assert "轮次已开启，只能修改名称、截止日期和整改线" in html
    data = round_data(ac, small_system, title="改名后的轮次", rectify_below="55", version=a.version)
    response = client.post(url, data)
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.title == "改名后的轮次" and a.rectify_below == 55 and audited("assess_round_update", a)
    assert client.post(url, {**data, "version": a.version - 1}).status_code == 409
    client.force_login(ac.unit_boss)  # sees the open round, does not manage it
    assert client.get(url).status_code == 403
