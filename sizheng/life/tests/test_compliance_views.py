"""The compliance screens: the heatmap, one org's year, the drill-down and its two actions.

Until the life app's urls.py includes them, this module is also the URLconf the tests use: the
project's URLs plus ``compliance_urlpatterns`` under /life/ (namespace ``life``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from hypothesis import given
from hypothesis import strategies as st

from sizheng import urls as project_urls
from sizheng.core.models import AuditEvent
from sizheng.core.rules import Period, periods_between
from sizheng.duties.models import Duty, SourceKind
from sizheng.life import compliance, services
from sizheng.life.models import ComplianceRule, Exemption, Meeting, MeetingKind, MeetingState
from sizheng.life.views_compliance import _falls_in, compliance_urlpatterns
from sizheng.org.models import Org
from sizheng.org.testing import make_org

urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "life" for p in urlpatterns):
    urlpatterns.append(path("life/", include((compliance_urlpatterns, "life"))))

URLS = "sizheng.life.tests.test_compliance_views"
pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLS)]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        yield


def _at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SH)


def _status(html: str, org: Org, key: str) -> str:
    """The data-status of the heatmap cell linking to (org, key)."""
    url = reverse("life:compliance_cell", args=[org.pk, key])
    m = re.search(r'data-status="(\w+)"><a [^>]*href="' + re.escape(url), html)
    assert m, f"no cell for {org.name} {key}"
    return m.group(1)


def _members_meeting(org: Org, actor, day: date) -> Meeting:
    return services.meeting_record(
        actor=actor,
        org=org,
        kind=MeetingKind.MEMBERS_MEETING,
        topic="学习贯彻全会精神",
        starts_at=_at(day),
        ends_at=_at(day, 11),
        place="三楼会议室",
    )


# --- the heatmap -------------------------------------------------------------------------------


def test_it_shows_the_committee_admin_every_bound_org(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("life:compliance"), {"year": 2026, "grain": "quarter"})
    assert response.status_code == 200
    html = response.content.decode()
    for org in (cast.branch_a1, cast.branch_a2, cast.branch_b1, cast.branch_c, cast.leading_a):
        assert org.name in html
    assert cast.committee_a.name in html  # a group heading (depth-1), not a row: it binds no rule
    assert reverse("life:compliance_org", args=[cast.committee_a.pk]) not in html
    assert _status(html, cast.branch_a1, "2026-Q2") == "warning"
    assert _status(html, cast.branch_a1, "2026-Q3") == "warning"  # July's 支委会 and 主题党日 are missing
    assert _status(html, cast.branch_a1, "2026-Q4") == "not_yet_due"
    assert '!<span class="visually-hidden">未达标（提醒）</span>' in html  # a text mark besides the colour


def test_it_shows_a_branch_secretary_their_branch_only(client, cast):
    client.force_login(cast.secretary_a)
    html = client.get(reverse("life:compliance"), {"year": 2026}).content.decode()
    assert cast.branch_a1.name in html
    for org in (cast.branch_a2, cast.branch_b1, cast.branch_c, cast.leading_a):
        assert org.name not in html
    assert _status(html, cast.branch_a1, "2026-07") in ("warning", "not_yet_due")


def test_it_turns_the_quarter_cell_met_when_a_members_meeting_is_recorded(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.committee_admin)
    params = {"year": 2026, "grain": "quarter", "kind": MeetingKind.MEMBERS_MEETING}
    before = client.get(reverse("life:compliance"), params).content.decode()
    assert _status(before, cast.branch_a1, "2026-Q3") == "not_yet_due"
    with django_capture_on_commit_callbacks(execute=True):  # the cache's version is bumped on commit
        _members_meeting(cast.branch_a1, cast.secretary_a, date(2026, 8, 12))
    after = client.get(reverse("life:compliance"), params).content.decode()
    assert _status(after, cast.branch_a1, "2026-Q3") == "met"
    assert _status(after, cast.branch_a2, "2026-Q3") == "not_yet_due"
    # By month, the quarter's requirement shows in each of its months.
    monthly = client.get(reverse("life:compliance"), {**params, "grain": "month"}).content.decode()
    assert _status(monthly, cast.branch_a1, "2026-07") == "met"


def test_it_limits_rows_to_a_subtree_and_404s_outside_scope(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(reverse("life:compliance"), {"under": cast.committee_a.pk}).content.decode()
    assert cast.branch_a1.name in html and cast.branch_c.name not in html
    client.force_login(cast.secretary_a)
    assert client.get(reverse("life:compliance"), {"under": cast.branch_c.pk}).status_code == 404


def _count_queries(client, url, params) -> int:
    """The queries of an evaluating view (the cached one: test_compliance_cache)."""
    cache.delete(compliance.VERSION_KEY)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_it_keeps_the_heatmap_query_count_flat_in_orgs_and_meetings(client, cast):
    client.force_login(cast.committee_admin)
    url, params = reverse("life:compliance"), {"year": 2026, "grain": "month"}
    client.get(url, params)  # warm-up: session, calendar
    baseline = _count_queries(client, url, params)
    for i in range(27):
        make_org(f"第{i}支部", Org.Kind.BRANCH, cast.general_b, f"X{i}")
    more_orgs = _count_queries(client, url, params)
    orgs = list(Org.objects.filter(kind=Org.Kind.BRANCH))
    start = _at(date(2026, 1, 5))
    Meeting.objects.bulk_create(
        Meeting(org=orgs[i % len(orgs)], kind=MeetingKind.COMMITTEE_MEETING, topic="支委会", place="会议室",
                starts_at=start + timedelta(days=2 * i), ends_at=start + timedelta(days=2 * i, hours=1),
                state=MeetingState.SUBMITTED)
        for i in range(100)
    )  # fmt: skip
    more_meetings = _count_queries(client, url, params)
    assert baseline == more_orgs == more_meetings <= 10


# --- one org's year and the drill-down -----------------------------------------------------------


def test_it_shows_a_branch_its_own_year(client, cast):
    _members_meeting(cast.branch_a1, cast.secretary_a, date(2026, 8, 12))
    client.force_login(cast.secretary_a)
    response = client.get(reverse("life:compliance_org", args=[cast.branch_a1.pk]), {"year": 2026})
    assert response.status_code == 200
    html = response.content.decode()
    assert "党员大会一般每季度召开1次" in html and "2026年第三季度 ✓ 已达标（1/1）" in html
    client.force_login(cast.outsider)
    assert client.get(reverse("life:compliance_org", args=[cast.branch_a1.pk])).status_code == 404


def test_it_drills_down_to_the_missing_activity_and_the_meetings_counted(client, cast):
    meeting = _members_meeting(cast.branch_a1, cast.secretary_a, date(2026, 8, 12))
    client.force_login(cast.secretary_a)
    response = client.get(reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q3"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "党员大会一般每季度召开1次" in html and meeting.topic in html
    assert reverse("life:meeting_detail", args=[meeting.pk]) in html
    assert "本季度已召开党员大会 1 次" in html
    assert "支委会一般每月召开1次" in html  # the quarter's months are part of the cell
    assert "转为督办事项" in html and "登记豁免" in html


def test_it_gives_an_outsider_404_on_another_orgs_cell(client, cast):
    client.force_login(cast.outsider)
    url = reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q2"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("life:compliance_cell", args=[cast.branch_c.pk, "nonsense"])).status_code == 404


def test_it_shows_a_member_the_cell_read_only(client, cast):
    client.force_login(cast.member)
    html = client.get(reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q2"])).content.decode()
    assert "党员大会" in html and "转为督办事项</button>" not in html


# --- 登记豁免 ----------------------------------------------------------------------------------


def _exemption_url(org: Org) -> str:
    return reverse("life:exemption_create", args=[org.pk])


def test_it_registers_an_exemption_with_audit_and_shows_the_cell_exempt(client, cast):
    client.force_login(cast.committee_admin)
    form = client.get(_exemption_url(cast.branch_a1), {"rule": "BR-MTG-1", "period": "2026-Q2"})
    assert form.status_code == 200 and 'value="2026-Q2"' in form.content.decode()
    data = {"rule": "BR-MTG-1", "period_key": "2026-Q2", "reason": "支部于本季度合并重组"}
    response = client.post(_exemption_url(cast.branch_a1), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q2"])
    ex = Exemption.objects.get(org=cast.branch_a1, rule__code="BR-MTG-1", period_key="2026-Q2")
    assert ex.reason == "支部于本季度合并重组" and ex.created_by == cast.committee_admin
    assert AuditEvent.objects.filter(action="exemption_add", object_id=str(ex.pk)).exists()
    html = client.get(
        reverse("life:compliance"), {"year": 2026, "grain": "quarter", "kind": "members_meeting"}
    )
    assert _status(html.content.decode(), cast.branch_a1, "2026-Q2") == "exempt"


def test_it_refuses_an_exemption_without_a_reason_with_422(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(
        _exemption_url(cast.branch_a1), {"rule": "BR-MTG-1", "period_key": "2026-Q2", "reason": "  "}
    )
    assert response.status_code == 422
    assert "豁免须写明理由。" in response.content.decode()
    assert not Exemption.objects.exists()
    twice = {"rule": "BR-MTG-1", "period_key": "2026-Q2", "reason": "合并重组"}
    assert client.post(_exemption_url(cast.branch_a1), twice).status_code == 302
    again = client.post(_exemption_url(cast.branch_a1), twice)
    assert again.status_code == 422 and "该期间已经登记过豁免。" in again.content.decode()


def test_it_refuses_exemptions_to_a_member_and_outsiders_and_other_methods(client, cast):
    data = {"rule": "BR-MTG-1", "period_key": "2026-Q2", "reason": "合并重组"}
    client.force_login(cast.member)
    assert client.post(_exemption_url(cast.branch_a1), data).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(_exemption_url(cast.branch_a1), data).status_code == 404
    client.force_login(cast.committee_admin)
    assert client.put(_exemption_url(cast.branch_a1), data).status_code == 405
    assert not Exemption.objects.exists()


# --- 转为督办事项 ------------------------------------------------------------------------------


def _duty_url(org: Org, key: str) -> str:
    return reverse("life:gap_to_duty", args=[org.pk, key])


def test_it_turns_a_gap_into_a_duty_and_goes_there(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(_duty_url(cast.branch_a1, "2026-Q2"), {"rule": "BR-MTG-1"})
    rule = ComplianceRule.objects.get(code="BR-MTG-1")
    duty = Duty.objects.get(source_kind=SourceKind.COMPLIANCE, source_id=rule.pk)
    assert response.status_code == 302 and response["Location"] == reverse("duties:detail", args=[duty.pk])
    assert duty.assignee_org == cast.branch_a1 and "2026-Q2" in duty.title and "党员大会" in duty.title
    assert AuditEvent.objects.filter(action="duty_open", object_id=str(duty.pk)).exists()


def test_it_refuses_gap_duties_to_a_member_outsiders_get_and_a_missing_rule(client, cast):
    client.force_login(cast.member)
    assert client.post(_duty_url(cast.branch_a1, "2026-Q2"), {"rule": "BR-MTG-1"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(_duty_url(cast.branch_a1, "2026-Q2"), {"rule": "BR-MTG-1"}).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(_duty_url(cast.branch_a1, "2026-Q2")).status_code == 405
    missing = client.post(_duty_url(cast.branch_a1, "2026-Q2"), {"rule": ""})
    assert missing.status_code == 422 and "请选择要转为督办事项的规则。" in missing.content.decode()
    assert not Duty.objects.exists()


def test_it_falls_back_to_defaults_for_bad_filters(client, cast):
    client.force_login(cast.member)
    response = client.get(reverse("life:compliance"), {"year": "abc", "grain": "week", "kind": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年组织生活合规情况" in html and cast.branch_a1.name in html


@given(
    st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(["month", "quarter"])
)
def test_it_shows_each_outcome_in_exactly_one_column_of_its_own_grain_or_coarser(d, kind):
    columns = lambda grain: [  # noqa: E731
        *periods_between(grain, date(d.year, 1, 1), date(d.year, 12, 31)),
        Period.of("year", d.year),
    ]
    q = Period.containing(kind, d)
    # By quarter: a month's or a quarter's outcome lands in its quarter (and the year) only.
    assert [c.key for c in columns("quarter") if _falls_in(q, c)] == [
        Period.containing("quarter", d).key,
        str(d.year),
    ]
    # By month: a month's outcome in its month; a quarter's in each of its three months.
    months = [c for c in columns("month") if c.kind == "month" and _falls_in(q, c)]
    assert len(months) == (1 if kind == "month" else 3) and all(q.start <= m.start <= q.end for m in months)
    assert not _falls_in(Period.of("year", d.year), Period.containing("month", d))
