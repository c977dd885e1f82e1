"""The lists and aggregate pages: query counts stay flat as rows grow; no page or export ranks people
or names anyone on the org aggregates; the ledgers download and are audited; the menu follows roles."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from sizheng.core import nav
from sizheng.org.models import Office, Org, Unit
from sizheng.org.testing import make_org, make_person
from sizheng.volunteer import services
from sizheng.volunteer.models import Campaign, CivilityKind, Signup
from sizheng.volunteer.services import Confirmation
from sizheng.volunteer.tests.helpers import NOW, activity, after, application, audited, fill

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _queries(client, url: str, status: int = 200) -> int:
    client.get(url)  # the session's first request loads and refreshes the session: not the page's cost
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    assert response.status_code == status, url
    return len(q.captured_queries)


def _volunteers(cast, n: int, start: int = 0):
    """n more members of branch A1 with accounts."""
    return [
        make_person(f"志愿者{i}", cast.unit_a, org=cast.branch_a1, username=f"zyz{i}").user
        for i in range(start, start + n)
    ]


def _confirm_all(act, user, hours="2"):
    rows = [Confirmation(s.pk, True, hours) for s in Signup.objects.filter(activity=act)]
    with time_machine.travel(after(act), tick=False):
        services.attendance_confirm(actor=user, activity=act, version=act.version, rows=rows)


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["committee_admin", "secretary_a", "member"])
def test_it_lists_activities_in_flat_queries(client, cast, who):
    user = getattr(cast, who)
    first = activity(cast)
    services.signup_create(actor=cast.member, activity=first)
    client.force_login(user)
    url = reverse("volunteer:activities")
    one = _queries(client, url)
    for i in range(9):
        act = activity(cast, title=f"活动{i}", org=cast.committee_a if i % 2 else cast.branch_a1,
                       actor=cast.committee_admin)  # fmt: skip
        services.signup_create(actor=cast.member, activity=act)
    assert _queries(client, url) == one
    assert _queries(client, url + "?year=2026&state=open&q=活动") <= one + 1


def test_it_shows_an_activity_and_its_confirmation_form_in_flat_queries(client, cast):
    act = activity(cast, capacity=None)
    services.signup_create(actor=cast.member, activity=act)
    client.force_login(cast.secretary_a)
    detail = reverse("volunteer:activity_detail", args=[act.pk])
    confirm = reverse("volunteer:activity_confirm", args=[act.pk])
    one_detail = _queries(client, detail)
    for user in _volunteers(cast, 9):
        services.signup_create(actor=user, activity=act)
    assert _queries(client, detail) == one_detail
    with time_machine.travel(after(act), tick=False):
        client.force_login(cast.secretary_a)
        ten = _queries(client, confirm)
    small = activity(cast, title="小活动")
    services.signup_create(actor=cast.member, activity=small)
    with time_machine.travel(after(small), tick=False):
        client.force_login(cast.secretary_a)
        assert _queries(client, reverse("volunteer:activity_confirm", args=[small.pk])) == ten


def test_it_shows_my_volunteering_in_flat_queries(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    _confirm_all(act, cast.secretary_a)
    client.force_login(cast.member)
    url = reverse("volunteer:mine")
    one = _queries(client, url)
    for i in range(9):
        more = activity(cast, title=f"活动{i}")
        services.signup_create(actor=cast.member, activity=more)
    assert _queries(client, url) == one
    page = client.get(url).content.decode()
    assert "2.0 小时" in page and "活动8" in page


def test_it_lists_applications_and_the_civility_overview_in_flat_queries(client, cast):
    application(cast)
    client.force_login(cast.committee_admin)
    lists = reverse("volunteer:applications")
    overview = reverse("volunteer:civility_overview")
    one_list, one_overview = _queries(client, lists), _queries(client, overview)
    for i in range(9):
        unit = Unit.objects.create(name=f"测试单位{i}", code=f"TU{i}")
        office = Office.objects.create(unit=unit, name="办公室")
        application(cast, unit=unit, actor=cast.committee_admin)
        application(cast, kind=CivilityKind.OFFICE, office=office, actor=cast.committee_admin)
    assert _queries(client, lists) == one_list
    assert _queries(client, overview) == one_overview


def test_it_shows_the_org_aggregates_in_flat_queries(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("volunteer:overview")
    one = _queries(client, url)
    for i in range(9):
        make_org(f"测试支部{i}", Org.Kind.BRANCH, cast.root, f"TB{i}")
    assert _queries(client, url) == one


def test_it_lists_campaigns_and_criteria_in_flat_queries(client, cast):
    client.force_login(cast.committee_admin)
    campaigns, criteria = reverse("volunteer:campaigns"), reverse("volunteer:criteria")
    one_c, one_k = _queries(client, campaigns), _queries(client, criteria)
    for i in range(10):
        services.campaign_create(actor=cast.committee_admin, name=f"新志愿行动{i}")
        services.criterion_create(actor=cast.committee_admin, kind="office", title=f"新标准{i}")
    assert _queries(client, campaigns) == one_c
    assert _queries(client, criteria) == one_k


def test_it_lists_the_api_in_flat_queries(client, cast):
    act = activity(cast)
    application(cast)
    client.force_login(cast.committee_admin)
    urls = ["/api/v1/volunteering/activities", "/api/v1/volunteering/civility"]
    one = [_queries(client, u) for u in urls]
    for i in range(9):
        activity(cast, title=f"活动{i}")
        unit = Unit.objects.create(name=f"测试单位{i}", code=f"TU{i}")
        application(cast, unit=unit, actor=cast.committee_admin)
    assert [_queries(client, u) for u in urls] == one
    assert act.pk in {a["id"] for a in client.get(urls[0]).json()["items"]}


# --- no rankings of people -----------------------------------------------------------------------


def test_it_names_nobody_on_the_aggregate_pages_and_exports(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    services.signup_create(actor=cast.org_admin, activity=act)
    _confirm_all(act, cast.secretary_a, hours="3")
    family = fill(
        application(cast, kind=CivilityKind.FAMILY, person=cast.person(cast.member)), cast.org_admin
    )
    services.application_transition(
        actor=cast.org_admin, application=family, action="submit", version=family.version
    )
    names = ["刘洋", "赵敏", "王建国"]
    for user in (cast.committee_admin, cast.secretary_a, cast.leader):
        client.force_login(user)
        for url in (reverse("volunteer:overview"), reverse("volunteer:civility_overview"),
                    reverse("volunteer:overview") + f"?org={cast.branch_a1.pk}"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            page = response.content.decode()
            # The header shows the viewer's own name; nobody else's may appear.
            assert not any(n in page for n in names if n != user.display_name), (user, url)
    client.force_login(cast.committee_admin)
    page = client.get(reverse("volunteer:overview")).content.decode()
    assert "市财政局机关委员会" in page and "6.0" in page  # the committee's subtree: 2 × 3 hours
    ledger = client.get(reverse("volunteer:activities_export"))
    cells = [str(c) for row in load_workbook(io.BytesIO(ledger.content)).active.iter_rows(values_only=True)
             for c in row if c is not None]  # fmt: skip
    assert not any(n in c for n in names for c in cells)
    api = client.get("/api/v1/volunteering/activities").content.decode()
    assert not any(n in api for n in names)


def test_it_lists_participants_to_the_organiser_in_sign_up_order_not_by_hours(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)  # 刘洋 first
    services.signup_create(actor=cast.org_admin, activity=act)  # 赵敏 second
    rows = {s.person.name: s.pk for s in Signup.objects.filter(activity=act).select_related("person")}
    with time_machine.travel(after(act), tick=False):
        services.attendance_confirm(
            actor=cast.secretary_a, activity=act, version=act.version,
            rows=[Confirmation(rows["刘洋"], True, "1"), Confirmation(rows["赵敏"], True, "3")],
        )  # fmt: skip
    client.force_login(cast.secretary_a)
    page = client.get(reverse("volunteer:activity_detail", args=[act.pk])).content.decode()
    assert page.index("刘洋") < page.index("赵敏")
    client.force_login(cast.member)  # a participant sees a count, not the others' names
    page = client.get(reverse("volunteer:activity_detail", args=[act.pk])).content.decode()
    assert "赵敏" not in page and "已报名 2 人" in page


def test_it_refuses_the_aggregates_to_people_without_an_aggregate_role(client, cast):
    client.force_login(cast.member)
    assert client.get(reverse("volunteer:overview")).status_code == 403
    assert client.get(reverse("volunteer:civility_overview")).status_code == 403
    client.force_login(cast.secretary_a)
    assert client.get(reverse("volunteer:overview") + f"?org={cast.branch_b1.pk}").status_code == 404


# --- ledgers and menu ----------------------------------------------------------------------------


def test_it_downloads_both_ledgers_with_an_audit_row(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    _confirm_all(act, cast.secretary_a, hours="2.5")
    application(cast)
    client.force_login(cast.secretary_a)
    response = client.get(reverse("volunteer:activities_export") + "?state=done")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "志愿活动台账" and rows[3][1] == act.title
    assert Decimal(str(rows[3][-2])) == Decimal("2.5") and rows[3][-1] == "已结束"
    assert audited("volunteer_activities_export")
    client.force_login(cast.org_admin)
    response = client.get(reverse("volunteer:applications_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "文明创建台账" and rows[3][1] == "市财政局" and rows[3][5] == "填报中"
    assert audited("civility_applications_export")


def test_it_shows_menu_entries_by_role(cast):
    def names(user):
        return {i["name"] for i in nav.items_for(user) if i["name"].startswith("volunteer:")}

    assert names(cast.member) == {"volunteer:activities", "volunteer:mine"}
    assert names(cast.leader) >= {"volunteer:activities", "volunteer:overview", "volunteer:civility_overview"}
    assert "volunteer:applications" not in names(cast.leader)
    assert names(cast.committee_admin) == {
        "volunteer:activities", "volunteer:overview", "volunteer:applications", "volunteer:civility_overview",
        "volunteer:campaigns",
    }  # fmt: skip
    assert names(cast.sysadmin) == set()
    assert Campaign.objects.count() == 10
