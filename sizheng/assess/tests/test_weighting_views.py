"""Weighting screens: who sees what (404 / 403), writes with audit rows, 422 re-renders, the live
check partial, aggregation, and flat query counts of the lists."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from django.urls import reverse

from sizheng.assess import weighting
from sizheng.assess.models import (
    Assessment,
    Indicator,
    IndicatorSystem,
    Judgment,
    RoundState,
    SessionState,
    SystemState,
    WeightMethod,
    WeightSet,
)
from sizheng.assess.tests.conftest import build_small_system
from sizheng.assess.tests.test_weighting import make_expert
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _ids(system):
    return {i.code: i for i in Indicator.objects.filter(system=system)}


def _session(ac, system, *experts):
    return weighting.create_session(system, actor=ac.committee_admin, title="专家赋权甲",
                                    experts=list(experts or [ac.expert]))  # fmt: skip


def _direct_data(system, name="直接赋权一", **override):
    ids = _ids(system)
    data = {"name": name}
    for ind in weighting.scored(system):
        data[f"w_{ind.pk}"] = str(ind.weight)
    for code, value in override.items():
        data[f"w_{ids[code].pk}"] = value
    return data


def _pair_data(system, parent, values):
    """POST data of a form: values maps (a_code, b_code) → scale code."""
    out = {}
    for a, b in weighting.all_pairs(weighting.elements_of(system, parent)):
        code = values.get((a.code, b.code), "")
        out[f"p_{a.pk}_{b.pk}"] = code
    return out


# --- weight sets -------------------------------------------------------------------------------


def test_the_weight_sets_of_a_system_are_reference_material_read_only_for_a_secretary(
    client, ac, small_system
):
    ws = weighting.save_direct(small_system, {i.pk: i.weight for i in weighting.scored(small_system)},
                               actor=ac.committee_admin, name="体系默认权重")  # fmt: skip
    client.force_login(ac.committee_admin)
    page = client.get(reverse("assess:weightsets", args=[small_system.pk])).content.decode()
    assert "体系默认权重" in page and reverse("assess:weights_direct", args=[small_system.pk]) in page
    detail = client.get(reverse("assess:weightset", args=[ws.pk])).content.decode()
    assert "责任清单完成" in detail and "30.00" in detail  # 0.6 × 0.5 × 100
    client.force_login(ac.secretary_a)
    page = client.get(reverse("assess:weightsets", args=[small_system.pk]))
    assert page.status_code == 200 and "体系默认权重" in page.content.decode()
    assert reverse("assess:weights_direct", args=[small_system.pk]) not in page.content.decode()
    assert client.get(reverse("assess:weightset", args=[ws.pk])).status_code == 200
    for name in ("weights_direct", "weights_entropy", "weights_combine", "session_new"):
        assert client.get(reverse(f"assess:{name}", args=[small_system.pk])).status_code == 403, name
    assert client.post(reverse("assess:weights_direct", args=[small_system.pk]),
                       _direct_data(small_system)).status_code == 403  # fmt: skip
    assert WeightSet.objects.count() == 1


def test_a_draft_systems_weights_are_hidden_from_outsiders(client, ac):
    draft = build_small_system(year=2027, state=SystemState.DRAFT)
    ws = WeightSet.objects.create(system=draft, number=1, name="草稿权重", method=WeightMethod.DIRECT)
    for user in (ac.outsider, ac.secretary_a, ac.expert):
        client.force_login(user)
        assert client.get(reverse("assess:weightsets", args=[draft.pk])).status_code == 404
        assert client.get(reverse("assess:weightset", args=[ws.pk])).status_code == 404
        assert client.get(reverse("assess:weights_direct", args=[draft.pk])).status_code == 404


def test_direct_weights_are_entered_per_group_and_checked(client, ac, small_system):
    client.force_login(ac.committee_admin)
    url = reverse("assess:weights_direct", args=[small_system.pk])
    page = client.get(url).content.decode()
    assert "1 党建责任" in page and "表彰加分" not in page  # bonus rows take no weight
    bad = client.post(url, _direct_data(small_system, **{"1.1": "0.7"}))
    assert bad.status_code == 422 and "应为 1" in bad.content.decode()
    assert not WeightSet.objects.exists()
    ok = client.post(url, _direct_data(small_system, **{"1.1": "0.7", "1.2": "0.3"}))
    ws = WeightSet.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("assess:weightset", args=[ws.pk])
    assert ws.weights[str(_ids(small_system)["1.1"].pk)] == 0.7 and ws.created_by == ac.committee_admin
    assert AuditEvent.objects.filter(action="assess_weightset_create", object_id=str(ws.pk)).exists()
    again = client.get(f"{url}?from={ws.pk}").content.decode()
    assert 'value="0.7"' in again


def test_entropy_and_combination_pages(client, ac, small_system, monkeypatch):
    client.force_login(ac.committee_admin)
    url = reverse("assess:weights_entropy", args=[small_system.pk])
    assert "还没有已计算或已发布的考核轮次" in client.get(url).content.decode()
    round_ = Assessment.objects.create(title="2026 年度考核", system=small_system, owner_org=ac.root,
                                       period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                                       state=RoundState.COMPUTED)  # fmt: skip
    Assessment.objects.create(title="未计算的轮次", system=small_system, owner_org=ac.root,
                              period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))  # fmt: skip
    page = client.get(url).content.decode()
    assert "2026 年度考核" in page and "未计算的轮次" not in page
    ids = _ids(small_system)
    leaves = [ids[c] for c in ("1.1", "1.2", "2.1", "2.2")]
    scores = np.array([[90, 40, 80, 100], [60, 50, 85, 40], [30, 70, 70, 90.0]])
    monkeypatch.setattr(weighting, "_score_matrix", lambda a: (["a", "b", "c"], leaves, scores))
    done = client.post(url, {"assessment": round_.pk, "variant": "minmax", "name": ""})
    entropy = WeightSet.objects.get(method=WeightMethod.ENTROPY)
    assert done.status_code == 302 and entropy.name == "2026 年度考核（熵权）"
    detail = client.get(reverse("assess:weightset", args=[entropy.pk])).content.decode()
    assert "信息熵" in detail and "2026 年度考核" in detail

    combine = reverse("assess:weights_combine", args=[small_system.pk])
    assert "至少有两个权重方案" in client.get(combine).content.decode()
    client.post(reverse("assess:weights_direct", args=[small_system.pk]), _direct_data(small_system))
    direct = WeightSet.objects.get(method=WeightMethod.DIRECT)
    same = client.post(
        combine, {"subjective": direct.pk, "objective": direct.pk, "method": "linear", "alpha": "0.5"}
    )
    assert same.status_code == 422 and "不能是同一个方案" in same.content.decode()
    ok = client.post(
        combine, {"subjective": direct.pk, "objective": entropy.pk, "method": "linear", "alpha": "0.6"}
    )
    combined = WeightSet.objects.get(method=WeightMethod.COMBINED)
    assert ok.status_code == 302 and combined.params["alpha"] == 0.6
    assert "组合来源" in client.get(reverse("assess:weightset", args=[combined.pk])).content.decode()


def test_weight_set_list_queries_stay_flat(client, ac, small_system, django_assert_max_num_queries):
    client.force_login(ac.committee_admin)
    url = reverse("assess:weightsets", args=[small_system.pk])
    client.get(url)
    for k in range(12):
        WeightSet.objects.create(system=small_system, number=k + 1, name=f"方案{k}", method=WeightMethod.DIRECT,
                                 created_by=ac.committee_admin)  # fmt: skip
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


# --- sessions ----------------------------------------------------------------------------------


def test_the_committee_admin_opens_a_session_and_the_experts_are_notified(client, ac, small_system):
    client.force_login(ac.committee_admin)
    url = reverse("assess:session_new", args=[small_system.pk])
    page = client.get(url).content.decode()
    assert "zhuanjia" in page and "钱进" not in page  # only expert-role accounts are offered
    bad = client.post(
        url, {"title": "赋权", "ri_table": "saaty_cn", "priority": "eigenvector", "threshold": "0.1"}
    )
    assert bad.status_code == 422 and "请至少邀请一位专家" in bad.content.decode()
    ok = client.post(url, {"title": "2026 赋权", "experts": [ac.expert.pk], "ri_table": "gong_xu",
                           "priority": "rgmm", "threshold": "0.1", "due_on": "2099-01-01"})  # fmt: skip
    session = small_system.sessions.get()
    assert ok.status_code == 302 and session.ri_table == "gong_xu" and session.priority == "rgmm"
    assert AuditEvent.objects.filter(action="assess_session_create", object_id=str(session.pk)).exists()
    client.force_login(ac.expert)
    assert client.get(url).status_code == 403


def test_who_sees_a_session(client, ac, small_system):
    session = _session(ac, small_system)
    stranger = make_expert("other")
    url = reverse("assess:session", args=[session.pk])
    client.force_login(ac.committee_admin)
    page = client.get(url).content.decode()
    assert "专家填写进度" in page and str(ac.expert) in page and "汇总专家判断" in page
    client.force_login(ac.expert)
    page = client.get(url).content.decode()
    assert "我的判断表" in page and "专家填写进度" not in page and "开始填写" in page
    judge = reverse("assess:judge", args=[session.pk, 0])
    for user in (stranger, ac.outsider, ac.secretary_a, ac.assessor):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        assert client.get(judge).status_code == 404, user
        assert client.post(reverse("assess:judge_check", args=[session.pk, 0]), {}).status_code == 404
        assert client.get(reverse("assess:session_aggregate", args=[session.pk])).status_code == 404
    client.force_login(ac.committee_admin)  # not invited: may look at the session, not fill its forms
    assert client.get(judge).status_code == 403
    client.force_login(ac.expert)
    assert client.get(reverse("assess:session_aggregate", args=[session.pk])).status_code == 403
    ids = _ids(small_system)
    assert client.get(reverse("assess:judge", args=[session.pk, ids["1.1"].pk])).status_code == 404


def test_the_sessions_list_shows_the_invited_ones_with_flat_queries(client, ac, small_system,
                                                                    django_assert_max_num_queries):  # fmt: skip
    other = make_expert("other")
    mine = _session(ac, small_system, ac.expert)
    theirs = _session(ac, small_system, other)
    theirs.title = "别人的赋权"
    theirs.save()
    url = reverse("assess:sessions")
    client.force_login(ac.expert)
    page = client.get(url).content.decode()
    assert mine.title in page and "别人的赋权" not in page and "0 / 3 张" in page
    client.force_login(ac.secretary_a)
    assert "您目前没有受邀参加的专家赋权" in client.get(url).content.decode()
    for k in range(8):
        s = build_small_system(year=2030 + k)
        _session(ac, s, ac.expert, other)
    for user in (ac.expert, ac.committee_admin):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == 200
    client.force_login(ac.committee_admin)
    assert "别人的赋权" in client.get(url).content.decode()
    assert "别人的赋权" not in client.get(url, {"q": "甲", "state": "open"}).content.decode()


def test_an_expert_fills_a_form_with_checks_saves_and_hands_it_in(client, ac, small_system):
    session = _session(ac, small_system)
    ids = _ids(small_system)
    client.force_login(ac.expert)
    url = reverse("assess:judge", args=[session.pk, ids["2"].pk])
    page = client.get(url).content.decode()
    assert (
        "满意率 与 违纪事项 相比" in page
        and "满意率 极端重要（9）" in page
        and "违纪事项 稍微重要（1/3）" in page
    )
    assert 'hx-post="' + reverse("assess:judge_check", args=[session.pk, ids["2"].pk]) in page
    assert 'hx-trigger="change"' in page and "检查一致性" in page
    data = _pair_data(small_system, ids["2"], {("2.1", "2.2"): "3"})
    partial = client.post(reverse("assess:judge_check", args=[session.pk, ids["2"].pk]), data)
    assert partial.status_code == 200 and 'id="sz-cr">0.0000<' in partial.content.decode()
    assert "<html" not in partial.content.decode()  # the partial only
    checked = client.post(url, {**data, "action": "check"})  # without JavaScript
    assert checked.status_code == 200 and 'id="sz-cr"' in checked.content.decode()
    assert not Judgment.objects.exists()
    saved = client.post(url, {**data, "action": "save"})
    assert saved.status_code == 302 and saved["Location"] == url
    assert Judgment.objects.get().submitted_at is None
    assert 'value="3" selected' in client.get(url).content.decode()  # resumed
    done = client.post(url, {**data, "action": "submit"})
    j = Judgment.objects.get()
    assert j.submitted_at is not None and j.consistent
    assert done.status_code == 302 and done["Location"] == reverse("assess:judge", args=[session.pk, 0])
    assert AuditEvent.objects.filter(action="assess_judgment_submit", object_id=str(j.pk)).exists()


def test_an_inconsistent_form_shows_the_hint_and_needs_an_explicit_confirmation(client, ac):
    system = IndicatorSystem.objects.create(name="三项", year=2026, state=SystemState.PUBLISHED)
    for k, name in enumerate(["甲", "乙", "丙"], start=1):
        Indicator.objects.create(system=system, code=str(k), name=name, weight=1 / 3, order=k)
    session = _session(ac, system)
    client.force_login(ac.expert)
    url = reverse("assess:judge", args=[session.pk, 0])
    data = _pair_data(system, None, {("1", "2"): "5", ("2", "3"): "5", ("1", "3"): "1/5"})
    check = client.post(reverse("assess:judge_check", args=[session.pk, 0]), data).content.decode()
    assert "alert-danger" in check and "的判断与其他判断最不一致：当前为" in check and "建议改为" in check
    refused = client.post(url, {**data, "action": "submit"})
    assert refused.status_code == 422 and "仍然提交" in refused.content.decode()
    assert not Judgment.objects.exists()
    m = re.search(r'name="apply" value="([^"]+)"', check)
    applied = client.post(url, {**data, "apply": m.group(1)})
    field, code = m.group(1).split("=")
    assert applied.status_code == 200 and f'value="{code}" selected' in applied.content.decode()
    forced = client.post(url, {**data, "action": "submit", "accept_inconsistent": "on"})
    assert forced.status_code == 302
    j = Judgment.objects.get()
    assert j.submitted_at and not j.consistent
    assert "一致性未通过" in client.get(reverse("assess:session", args=[session.pk])).content.decode()


def test_aggregation_shows_the_crs_names_missing_forms_and_closes_the_session(client, ac, small_system):
    other = make_expert("other")
    session = _session(ac, small_system, ac.expert, other)
    client.force_login(ac.committee_admin)
    url = reverse("assess:session_aggregate", args=[session.pk])
    page = client.get(url).content.decode()
    assert "「一级指标」" in page and "还没有专家提交判断" in page
    refused = client.post(url, {"name": "汇总", "version": session.version})
    assert refused.status_code == 422 and "「1 党建责任」" in refused.content.decode()
    for expert, value in ((ac.expert, 2), (other, 1 / 2)):
        for parent in weighting.parents(small_system):
            a, b = weighting.elements_of(small_system, parent)
            weighting.save_judgment(
                session, expert=expert, parent=parent, pairs=[[a.pk, b.pk, value]], submit=True
            )
    page = client.get(url).content.decode()
    assert str(other) in page and "汇总矩阵的一致性比率" in page
    stale = client.post(url, {"name": "汇总", "version": session.version + 5})
    assert stale.status_code == 409
    done = client.post(url, {"name": "专家汇总权重", "version": session.version})
    ws = WeightSet.objects.get()
    assert done.status_code == 302 and ws.name == "专家汇总权重" and ws.method == WeightMethod.AHP
    session.refresh_from_db()
    assert session.state == SessionState.CLOSED
    detail = client.get(reverse("assess:weightset", args=[ws.pk])).content.decode()
    assert str(other) in detail and "汇总判断矩阵（AIJ）的一致性比率" in detail
    client.force_login(ac.expert)  # others see the CRs, never the experts' names
    detail = client.get(reverse("assess:weightset", args=[ws.pk])).content.decode()
    assert "专家 1" in detail and str(other) not in detail
    closed = client.post(reverse("assess:judge", args=[session.pk, 0]), {"action": "save"})
    assert closed.status_code == 422 and "已经结束" in closed.content.decode()
