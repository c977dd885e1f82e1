"""Responsibility lists: the default template and its due-date rules, a year's list from the template
or copied from last year, and the lists page."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.models import AuditEvent
from sizheng.duties import template_data
from sizheng.duties.models import Duty, DutyList, SourceKind, State

# --- the template (pure) -------------------------------------------------------------------------


def test_it_ships_a_template_covering_the_seed_categories():
    categories = {item.category for item in template_data.TEMPLATE_ITEMS}
    assert {"责任落实", "分析研判", "调查研究", "情况通报", "经费保障", "督查考核", "理论学习", "三会一课", "谈心谈话",
            "人文关怀", "队伍建设", "阵地建设", "文明创建"} <= categories  # fmt: skip
    assert 18 <= len(template_data.TEMPLATE_ITEMS) <= 30
    titles = " ".join(item.title for item in template_data.TEMPLATE_ITEMS)
    assert "联席会议" in titles and "中心组" in titles and "青年理论学习" in titles
    for item in template_data.TEMPLATE_ITEMS:
        assert (
            item.requirement.endswith("。")
            and item.evidence
            and item.priority in ("normal", "high", "urgent")
        )


def test_it_reads_the_due_date_rules():
    assert template_data.occurrences("6月30日前", 2026) == [("", date(2026, 6, 30))]
    assert [d for _, d in template_data.occurrences("每季度末", 2026)] == [
        date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)
    ]  # fmt: skip
    assert [label for label, _ in template_data.occurrences("每半年末", 2026)] == ["上半年", "下半年"]
    with pytest.raises(ValueError, match="无法识别的完成时限规则"):
        template_data.occurrences("每月", 2026)
    assert template_data.occurrence_title("开展分析研判", "第一季度") == "开展分析研判（第一季度）"


@given(st.integers(min_value=1990, max_value=2100))
def test_it_gives_each_template_duty_a_date_in_the_year_and_a_unique_title(year):
    duties = template_data.template_duties(year)
    assert all(d["due_on"].year == year for d in duties)
    assert len({d["title"] for d in duties}) == len(duties)
    expected = sum(len(template_data.occurrences(item.rule, year)) for item in template_data.TEMPLATE_ITEMS)
    assert len(duties) == expected


# --- the screens -------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytest.fixture
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _data(org, **changes) -> dict:
    data = {"org": org.pk, "year": 2027, "mode": "template", "title": ""}
    data.update(changes)
    return data


@pytestmark_db
@pytest.mark.usefixtures("_today")
def test_it_creates_a_year_list_from_the_template_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1))
    assert response.status_code == 302
    duty_list = DutyList.objects.get()
    assert response["Location"] == f"{reverse('duties:board')}?duty_list={duty_list.pk}"
    assert duty_list.title == "市财政局机关第一支部委员会2027年度思想政治工作责任清单"
    duties = Duty.objects.filter(duty_list=duty_list)
    assert duties.count() == len(template_data.template_duties(2027))
    assert set(duties.values_list("source_kind", "source_id").distinct()) == {
        (SourceKind.TEMPLATE, duty_list.pk)
    }
    assert set(duties.values_list("assigning_org", flat=True)) == {cast.root.pk}
    assert duties.filter(title="开展干部职工思想动态分析研判（第二季度）", category="分析研判").exists()
    assert AuditEvent.objects.filter(action="duty_list_create", object_id=str(duty_list.pk)).exists()
    page = client.get(response["Location"]).content.decode()
    assert "已创建“市财政局机关第一支部委员会2027年度思想政治工作责任清单”" in page


@pytestmark_db
@pytest.mark.usefixtures("_today")
def test_it_leaves_out_the_occurrences_already_past_in_a_list_made_mid_year(client, cast):
    client.force_login(cast.secretary_a)
    assert client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=2026)).status_code == 302
    duties = Duty.objects.filter(duty_list__year=2026)
    assert duties.exists() and not duties.filter(due_on__lt=date(2026, 3, 10)).exists()
    assert set(duties.values_list("assigning_org", flat=True)) == {cast.branch_a1.pk}


@pytestmark_db
@pytest.mark.usefixtures("_today")
def test_it_copies_last_year_list_with_dates_moved_a_year(client, cast):
    client.force_login(cast.committee_admin)
    client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=2027))
    old = DutyList.objects.get()
    Duty.objects.filter(duty_list=old, title__startswith="报送年度").update(state=State.CANCELLED)
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=2028, mode="copy"))
    assert response.status_code == 302
    new = DutyList.objects.get(year=2028)
    old_due = {d.title: d.due_on for d in old.duties.exclude(state=State.CANCELLED)}
    new_due = {d.title: d.due_on for d in new.duties.all()}
    assert set(new_due) == set(old_due) and not any(t.startswith("报送年度") for t in new_due)
    for title, day in new_due.items():
        # a year later; a date that falls on a rest day moves on to the next workday
        assert 0 <= (day - old_due[title].replace(year=old_due[title].year + 1)).days <= 10, title
    assert new.template == old.template


@pytestmark_db
@pytest.mark.usefixtures("_today")
def test_it_rejects_bad_list_requests_with_422_403_and_405(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1, mode="copy"))
    assert response.status_code == 422
    assert "没有2026年度的责任清单，无法复制" in response.content.decode()
    assert client.post(reverse("duties:list_create"), _data(cast.branch_a1)).status_code == 302
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1))
    assert response.status_code == 422 and "请换一个名称" in response.content.decode()
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1, year="明年"))
    assert response.status_code == 422 and "年度须是四位数字。" in response.content.decode()
    client.force_login(cast.secretary_b)
    response = client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=2030))
    assert response.status_code == 422
    assert "您不能为该党组织创建责任清单，请重新选择。" in response.content.decode()
    client.force_login(cast.member)
    assert client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=2031)).status_code == 403
    assert client.get(reverse("duties:list_create")).status_code == 405
    assert DutyList.objects.count() == 1


@pytestmark_db
@pytest.mark.usefixtures("_today")
def test_it_lists_the_lists_in_scope_with_counts_in_flat_queries(client, cast):
    client.force_login(cast.committee_admin)
    client.post(reverse("duties:list_create"), _data(cast.branch_a1))

    def count(user) -> tuple[int, str]:
        client.force_login(user)
        client.get(reverse("duties:lists"))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("duties:lists"))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    few, html = count(cast.secretary_a)
    assert "2027年度思想政治工作责任清单" in html
    _, html = count(cast.secretary_b)
    assert "2027年度思想政治工作责任清单" not in html and "您的范围内还没有责任清单" in html
    client.force_login(cast.committee_admin)
    for year in (2028, 2029):
        client.post(reverse("duties:list_create"), _data(cast.branch_a1, year=year))
    assert count(cast.secretary_a)[0] == few
