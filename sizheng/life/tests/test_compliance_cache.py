"""The heatmap's cache: each org's column statuses are kept under the data version, which every write of
what the evaluation reads replaces on commit — so a repeated view skips the evaluation and a change
shows on the next view.

Writes go through the real services and views inside ``django_capture_on_commit_callbacks(execute=True)``:
the version is replaced on commit, and a test's transaction never commits by itself.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.life import compliance, services
from sizheng.life.models import ComplianceRule, Exemption, Meeting, MeetingKind
from sizheng.org import services as org_services
from sizheng.org.models import Org

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
URL = "/life/compliance/"
QUARTERS = {"year": 2026, "grain": "quarter", "kind": MeetingKind.MEMBERS_MEETING}


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


def _cells(html: str) -> list[tuple[str, str]]:
    """Every heatmap cell of the page: its status and its link."""
    return re.findall(r'<td class="[^"]*" data-status="(\w+)">(?:<a [^>]*href="([^"]+)")?', html)


def _view(client, params=QUARTERS) -> tuple[str, int]:
    """The page and its query count."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def _members_meeting(org: Org, actor, day: date, *, submit: bool = True) -> Meeting:
    return services.meeting_record(
        actor=actor, org=org, kind=MeetingKind.MEMBERS_MEETING, topic="学习贯彻全会精神",
        starts_at=_at(day), ends_at=_at(day, 11), place="三楼会议室", submit=submit,
    )  # fmt: skip


def test_it_serves_an_unchanged_view_from_the_cache_with_fewer_queries(client, cast):
    client.force_login(cast.committee_admin)
    client.get(URL, QUARTERS)  # warm-up: the session, the calendar
    cache.delete(compliance.VERSION_KEY)
    cold_html, cold = _view(client)
    warm_html, warm = _view(client)
    assert warm == cold - 2  # neither the meetings nor the exemptions are read
    assert (
        _cells(warm_html) == _cells(cold_html) and len(_cells(warm_html)) == 4 * 5
    )  # 4 branches × Q1–Q4, 全年
    assert _status(warm_html, cast.branch_a1, "2026-Q2") == "warning"
    # Another order or page of the same view is the same entry; another grain or activity is not.
    assert _view(client, {**QUARTERS, "sort": "tree"})[1] == warm
    assert _view(client, {**QUARTERS, "grain": "month"})[1] == cold


def test_it_shows_a_recorded_meeting_on_the_next_view(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.committee_admin)
    before, _ = _view(client)
    assert _status(before, cast.branch_a1, "2026-Q3") == "not_yet_due"
    version = compliance.data_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _members_meeting(cast.branch_a1, cast.secretary_a, date(2026, 8, 12))
    assert callbacks and compliance.data_version() != version
    after, _ = _view(client)
    assert _status(after, cast.branch_a1, "2026-Q3") == "met"
    assert _status(after, cast.branch_a2, "2026-Q3") == "not_yet_due"


def test_it_shows_a_submitted_draft_and_keeps_a_draft_out(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.committee_admin)
    with django_capture_on_commit_callbacks(execute=True):
        draft = _members_meeting(cast.branch_a1, cast.secretary_a, date(2026, 8, 12), submit=False)
    assert _status(_view(client)[0], cast.branch_a1, "2026-Q3") == "not_yet_due"  # a draft does not count
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_submit(actor=cast.secretary_a, meeting=draft, version=draft.version)
    assert _status(_view(client)[0], cast.branch_a1, "2026-Q3") == "met"


def test_it_shows_an_exemption_registered_through_the_page(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.committee_admin)
    assert _status(_view(client)[0], cast.branch_a1, "2026-Q2") == "warning"
    data = {"rule": "BR-MTG-1", "period_key": "2026-Q2", "reason": "支部于本季度合并重组"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("life:exemption_create", args=[cast.branch_a1.pk]), data)
    assert response.status_code == 302
    ex = Exemption.objects.get(org=cast.branch_a1, rule__code="BR-MTG-1", period_key="2026-Q2")
    assert AuditEvent.objects.filter(action="exemption_add", object_id=str(ex.pk)).exists()
    after, _ = _view(client)
    assert _status(after, cast.branch_a1, "2026-Q2") == "exempt"
    assert _status(after, cast.branch_a2, "2026-Q2") == "warning"


def test_it_follows_a_rule_switched_off_on_the_rules_page(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.committee_admin)
    every = {"year": 2026, "grain": "quarter"}
    assert _status(_view(client, every)[0], cast.leading_a, "2026-Q2") == "warning"  # CGS-2: quarterly
    rule = ComplianceRule.objects.get(code="CGS-2")
    version = compliance.data_version()
    data = {"code": rule.code, "label": rule.label, "activity": rule.activity, "org_kinds": ["leading_group"],
            "count": 1, "period": rule.period, "within": "", "severity": rule.severity, "source": rule.source,
            "scope_org": ""}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # 是否启用 unchecked
        response = client.post(reverse("life:rule_edit", args=[rule.pk]), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert not rule.is_active and compliance.data_version() != version
    assert AuditEvent.objects.filter(action="compliance_rule_update", object_id=str(rule.pk)).exists()
    after, _ = _view(client, every)
    assert cast.leading_a.name in after  # still bound by its yearly rules
    assert (
        reverse("life:compliance_cell", args=[cast.leading_a.pk, "2026-Q2"]) not in after
    )  # no quarterly one


def test_it_follows_an_org_dissolved_or_created(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.committee_admin)
    assert _status(_view(client)[0], cast.branch_a2, "2026-Q4") == "not_yet_due"
    version = compliance.data_version()
    org = cast.branch_a2
    with django_capture_on_commit_callbacks(execute=True):
        org_services.org_update(
            actor=cast.committee_admin, org=org, version=org.version, dissolved_on=date(2026, 6, 30)
        )
    assert compliance.data_version() != version
    after, _ = _view(client)
    assert _status(after, cast.branch_a2, "2026-Q2") == "warning"  # it existed then
    assert reverse("life:compliance_cell", args=[org.pk, "2026-Q4"]) not in after  # gone by then
    version = compliance.data_version()
    with django_capture_on_commit_callbacks(execute=True):
        new = org_services.org_create(
            actor=cast.committee_admin, name="新设党支部", kind=Org.Kind.BRANCH, parent=cast.committee_a,
            code="NEW1", founded_on=date(2026, 7, 1),
        )  # fmt: skip
    assert compliance.data_version() != version
    assert _status(_view(client)[0], new, "2026-Q4") == "not_yet_due"


def test_it_keys_the_day_so_a_quarter_falls_due_at_midnight(client, cast):
    with time_machine.travel(datetime(2026, 9, 30, 23, tzinfo=SH), tick=False):
        client.force_login(cast.committee_admin)
        assert _status(_view(client)[0], cast.branch_a1, "2026-Q3") == "not_yet_due"
    with time_machine.travel(datetime(2026, 10, 1, 8, tzinfo=SH), tick=False):
        client.logout()  # the night's idle time would end the session
        client.force_login(cast.committee_admin)
        assert _status(_view(client)[0], cast.branch_a1, "2026-Q3") == "warning"


def test_it_keeps_a_secretarys_view_to_their_scope_after_the_committees(client, cast):
    client.force_login(cast.committee_admin)
    assert cast.branch_a2.name in _view(client, {"year": 2026})[0]
    client.force_login(cast.secretary_a)
    html, _ = _view(client, {"year": 2026})
    assert cast.branch_a1.name in html
    for org in (cast.branch_a2, cast.branch_b1, cast.branch_c, cast.leading_a):
        assert org.name not in html


def test_it_recomputes_when_the_version_is_lost_from_the_cache(client, cast):
    client.force_login(cast.committee_admin)
    client.get(URL, QUARTERS)  # warm-up: the session, the calendar
    cache.delete(compliance.VERSION_KEY)
    _, cold = _view(client)
    cache.delete(compliance.VERSION_KEY)  # a cull, a restart of a local-memory cache
    assert _view(client)[1] == cold
    assert _view(client)[1] == cold - 2


def test_it_stores_a_result_computed_during_a_write_under_the_old_version():
    calls = []

    def compute():
        calls.append(1)
        if len(calls) == 1:
            compliance._bump()  # a write commits while the first reader evaluates
        return len(calls)

    assert compliance.cached(("t",), compute) == 1
    assert compliance.cached(("t",), compute) == 2  # the first result was filed under the old version
    assert compliance.cached(("t",), compute) == 2


def test_it_replaces_the_version_only_once_the_write_commits(django_capture_on_commit_callbacks):
    version = compliance.data_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        compliance.data_changed()
    assert compliance.data_version() == version  # not yet committed: readers keep the old version
    callbacks[0]()
    assert compliance.data_version() != version


def test_it_is_warmed_by_the_dashboard_job_for_the_committees_default_views(client, cast):
    from sizheng.dashboard import jobs

    client.force_login(cast.committee_admin)
    client.get(URL)  # warm-up: the session, the calendar
    cache.delete(compliance.VERSION_KEY)
    _, cold = _view(client, {})  # this year, by month, every activity
    cache.delete(compliance.VERSION_KEY)
    result = jobs.warm()
    assert "life.heatmap" not in result["failed"]
    for params, column in (({}, "2026-05"), ({"grain": "quarter"}, "2026-Q2")):
        html, warm = _view(client, params)
        assert warm == cold - 2 and _status(html, cast.branch_a1, column) == "warning"
