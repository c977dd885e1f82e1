"""New duties and campaigns from the screens, the campaign roll-up and "my duties"."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties import services
from sizheng.duties.models import Campaign, Duty, SourceKind, State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _duty_data(org, **changes) -> dict:
    data = {"org": org.pk, "title": "开展廉政警示教育", "category": "理论学习", "description": "组织观看警示教育片。",
            "evidence_required": "活动记录", "due_on": "2026-04-30", "priority": "normal", "owner_name": "",
            "supervising_org": "", "tags": ""}  # fmt: skip
    data.update(changes)
    return data


# --- a new duty --------------------------------------------------------------------------------


def test_it_creates_a_duty_for_an_org_in_the_admin_scope_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    assert client.get(reverse("duties:create")).status_code == 200
    response = client.post(reverse("duties:create"), _duty_data(cast.branch_a1, owner_name="刘洋"))
    assert response.status_code == 302
    duty = Duty.objects.get(title="开展廉政警示教育")
    assert response["Location"] == reverse("duties:detail", args=[duty.pk])
    assert duty.assignee_org == cast.branch_a1 and duty.assigning_org == cast.root
    assert duty.owner == cast.person(cast.member) and duty.source_kind == SourceKind.MANUAL
    assert duty.due_on == date(2026, 4, 30) and duty.state == State.ASSIGNED
    assert AuditEvent.objects.filter(action="duty_open", object_id=str(duty.pk)).exists()


def test_it_lets_a_branch_secretary_assign_within_their_branch_only(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(reverse("duties:create"), _duty_data(cast.branch_a1))
    assert response.status_code == 302
    assert Duty.objects.get().assigning_org == cast.branch_a1
    response = client.post(reverse("duties:create"), _duty_data(cast.branch_b1, title="越权部署"))
    assert response.status_code == 422
    assert "您不能向该党组织部署事项，请重新选择。" in response.content.decode()
    assert not Duty.objects.filter(title="越权部署").exists()


def test_it_picks_the_assignee_and_supervising_org_by_name_without_javascript(client, cast):
    client.force_login(cast.secretary_a)
    html = client.get(reverse("duties:create"), {"org": cast.branch_a1.pk}).content.decode()
    assert '<select name="org"' not in html and '<select name="supervising_org"' not in html
    assert (
        f'name="org" value="{cast.branch_a1.pk}"' in html
        and 'value="市财政局机关第一支部委员会（A1）"' in html
    )
    assert f'hx-get="{reverse("org:pick", args=["org"])}?scope=assignable"' in html
    data = {**_duty_data(cast.branch_a1), "org": "", "org_q": "第一支部", "supervising_org_q": "a1"}
    assert client.post(reverse("duties:create"), data).status_code == 302
    duty = Duty.objects.get()
    assert duty.assignee_org == cast.branch_a1 and duty.supervising_org == cast.branch_a1
    # Outside the user's scope, a name is not found (never “not yours”).
    response = client.post(
        reverse("duties:create"), {**_duty_data(cast.branch_a1), "org": "", "org_q": "教育局"}
    )
    assert response.status_code == 422
    assert "没有找到名称包含“教育局”的党组织。请检查输入。" in response.content.decode()
    response = client.post(reverse("duties:create"), {**_duty_data(cast.branch_a1), "org": "", "org_q": ""})
    assert "请选择责任单位。" in response.content.decode()


def test_it_suggests_only_orgs_the_user_may_assign_to(client, cast):
    pick = reverse("org:pick", args=["org"])
    client.force_login(cast.secretary_a)
    labels = client.get(pick, {"q": "支部", "scope": "assignable"}).content.decode()
    assert (
        "市财政局机关第一支部委员会（A1）" in labels and "第二支部" not in labels and "教育局" not in labels
    )
    client.force_login(cast.committee_admin)
    labels = client.get(pick, {"q": "支部", "scope": "assignable"}).content.decode()
    assert "第二支部" in labels and "教育局" in labels
    client.force_login(cast.member)
    assert client.get(pick, {"q": "支部", "scope": "assignable"}).status_code == 404


def test_it_rejects_a_bad_new_duty_with_422_and_chinese_messages(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("duties:create")
    response = client.post(
        url, _duty_data(cast.branch_a1, title="", due_on="2026-03-01", owner_name="查无此人")
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "请填写事项名称。" in html and "完成时限不能早于今天。" in html
    response = client.post(url, _duty_data(cast.branch_a1, owner_name="查无此人"))
    assert response.status_code == 422
    assert "没有名为“查无此人”的在册人员" in response.content.decode()
    assert not Duty.objects.exists()


def test_it_refuses_new_duties_to_those_who_assign_nothing_and_to_wrong_methods(client, cast):
    for user in (cast.member, cast.leader, cast.outsider):
        client.force_login(user)
        assert client.get(reverse("duties:create")).status_code == 403
        assert client.post(reverse("duties:create"), _duty_data(cast.branch_a1)).status_code == 403
    client.force_login(cast.committee_admin)
    assert client.put(reverse("duties:create")).status_code == 405
    assert not Duty.objects.exists()


# --- campaigns ---------------------------------------------------------------------------------


def _campaign_data(**changes) -> dict:
    data = {"title": "开展“七一”走访慰问", "description": "走访慰问老党员和困难党员。", "evidence_required": "走访台账",
            "due_on": "2026-06-30", "priority": "high"}  # fmt: skip
    data.update(changes)
    return data


def test_it_assigns_a_campaign_to_all_child_orgs_and_shows_its_roll_up(client, cast):
    client.force_login(cast.committee_admin)
    assert client.get(reverse("duties:campaign_create")).status_code == 200
    response = client.post(reverse("duties:campaign_create"), _campaign_data(all_children="on"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("duties:campaign", args=[campaign.pk])
    orgs = set(Duty.objects.filter(campaign=campaign).values_list("assignee_org__code", flat=True))
    assert orgs == {"A", "A-LG", "B", "C"}
    assert AuditEvent.objects.filter(action="campaign_create", object_id=str(campaign.pk)).exists()
    duty = Duty.objects.get(campaign=campaign, assignee_org=cast.committee_a)
    Duty.objects.filter(pk=duty.pk).update(state=State.CLOSED)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["roll"]["percent_closed"] == 25
    assert "市教育局机关总支部委员会" in page.content.decode()


def test_it_assigns_a_campaign_to_chosen_orgs_and_checks_them(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(reverse("duties:campaign_create"),
                           _campaign_data(orgs=[cast.branch_a1.pk, cast.branch_b1.pk]))  # fmt: skip
    assert response.status_code == 302
    assert Duty.objects.filter(campaign__isnull=False).count() == 2
    response = client.post(reverse("duties:campaign_create"), _campaign_data(title="无对象"))
    assert response.status_code == 422
    assert "请至少选择一个责任单位" in response.content.decode()
    client.force_login(cast.secretary_a)
    response = client.post(reverse("duties:campaign_create"), _campaign_data(orgs=[cast.branch_b1.pk]))
    assert response.status_code == 422
    assert "所选责任单位不在您的管理范围内" in response.content.decode()
    client.force_login(cast.member)
    assert client.post(reverse("duties:campaign_create"), _campaign_data()).status_code == 403
    client.force_login(cast.committee_admin)
    assert client.delete(reverse("duties:campaign_create")).status_code == 405


def test_it_shows_a_campaign_only_to_those_who_see_its_duties(client, cast):
    campaign = services.campaign_create(actor=cast.committee_admin, title="专题调研", description="",
                                        assigning_org=cast.root, orgs=[cast.branch_a1], due_on=date(2026, 5, 29))  # fmt: skip
    url = reverse("duties:campaign", args=[campaign.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 200
    client.force_login(cast.secretary_b)
    assert client.get(url).status_code == 404
    assert client.get(reverse("duties:campaign", args=[campaign.pk + 99])).status_code == 404
    assert "专题调研" not in client.get(reverse("duties:campaigns")).content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_keeps_the_campaign_roll_up_and_list_query_counts_flat(client, cast):
    campaign = services.campaign_create(actor=cast.committee_admin, title="专题调研", description="",
                                        assigning_org=cast.root, orgs=[cast.branch_a1, cast.branch_b1],
                                        due_on=date(2026, 5, 29))  # fmt: skip
    client.force_login(cast.committee_admin)
    urls = [reverse("duties:campaign", args=[campaign.pk]), reverse("duties:campaigns")]
    _queries(client, urls[0])
    few = [_queries(client, u) for u in urls]
    orgs = [cast.branch_a2, cast.general_b, cast.branch_c, cast.committee_a, cast.leading_a]
    for i in range(30):
        services.duty_open(org=orgs[i % 5], title="专题调研", due_on=date(2026, 3, 2 + i % 20), actor=None,
                           assigning_org=cast.root, campaign=campaign, source=(SourceKind.CAMPAIGN, campaign.pk))  # fmt: skip
    for i in range(5):
        services.campaign_create(actor=cast.committee_admin, title=f"任务{i}", description="",
                                 assigning_org=cast.root, orgs=[cast.branch_a1], due_on=date(2026, 5, 29))  # fmt: skip
    assert [_queries(client, u) for u in urls] == few


# --- my duties ---------------------------------------------------------------------------------


def _open(cast, org=None, *, title="事项", due=date(2026, 4, 10), **extra) -> Duty:
    return services.duty_open(org=org or cast.branch_a1, title=title, due_on=due, actor=cast.committee_admin,
                              assigning_org=cast.root, **extra)  # fmt: skip


def test_it_groups_my_duties_by_warning_and_lists_what_waits_for_my_review(client, cast):
    _open(cast, title="早已逾期", due=date(2026, 2, 2))
    _open(cast, title="即将到期", due=date(2026, 3, 12))
    reported = _open(cast, title="已报送")
    for action, kw in (("accept", {}), ("start", {}), ("report", {"evidence": "已完成"})):
        reported.refresh_from_db()
        services.duty_transition(
            duty=reported, action=action, actor=cast.secretary_a, version=reported.version, **kw
        )
    _open(cast, cast.branch_b1, title="别的支部")
    own = _open(cast, cast.branch_a2, title="刘洋个人负责", owner=cast.person(cast.member))
    client.force_login(cast.secretary_a)
    response = client.get(reverse("duties:mine"))
    groups = {g["key"]: [r.duty.title for r in g["rows"]] for g in response.context["groups"]}
    assert groups == {"red": ["早已逾期"], "blue": ["即将到期"], "waiting": ["已报送"]}
    client.force_login(cast.member)
    groups = {
        g["key"]: [r.duty.title for r in g["rows"]]
        for g in client.get(reverse("duties:mine")).context["groups"]
    }
    assert groups == {"none": [own.title]}
    client.force_login(cast.committee_admin)
    response = client.get(reverse("duties:mine"))
    assert [r.duty.title for r in response.context["review"]] == ["已报送"]
    assert "待我督查或审批" in response.content.decode()


def test_it_keeps_my_duties_query_count_flat(client, cast):
    _open(cast, title="一", due=date(2026, 2, 2))
    client.force_login(cast.secretary_a)
    url = reverse("duties:mine")
    _queries(client, url)
    few = _queries(client, url)
    for i in range(40):
        _open(
            cast,
            title=f"事项{i}",
            due=date(2026, 2, 1 + i % 28),
            owner=cast.person(cast.member) if i % 3 else None,
        )
    assert _queries(client, url) == few
