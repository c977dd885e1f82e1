"""Care-case screens: the ledger, my cases, the self-report and on-behalf forms, the case page and its
actions; who sees the details (audited) and who sees metadata only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.care import services
from sizheng.care.models import CareCase, CaseState, Category, Handler, OpenedVia
from sizheng.core.models import AuditEvent
from sizheng.org.models import Person
from sizheng.org.testing import make_person
from sizheng.talks.models import Talk, TalkParticipant

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=SH)
CANARY = "CANARYVIEW"


def _open(cast, user=None, **kw) -> CareCase:
    user = user or cast.member
    kw.setdefault("category", Category.HOUSING)
    kw.setdefault("description", f"{CANARY}-desc 租房到期")
    return services.care_case_open(actor=user, person=cast.person(user), **kw)


def _note(cast, case, text=f"{CANARY}-note 已走访"):
    fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
    return services.care_case_transition(
        actor=cast.secretary_a, case=fresh, action="add_action", version=fresh.version, note=text
    )


def _reads(user, case) -> int:
    return AuditEvent.objects.filter(
        actor=user, action="read_sensitive", object_type="care.carecase", object_id=str(case.pk)
    ).count()


def _detail(case) -> str:
    return reverse("care:case_detail", args=[case.pk])


def _go(case) -> str:
    return reverse("care:case_transition", args=[case.pk])


# --- who sees what --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_details_to_the_person_the_handler_and_the_opener_with_an_audit_row(client, cast):
    case = _open(cast)
    _note(cast, case)
    for user in (cast.member, cast.secretary_a):
        client.force_login(user)
        text = client.get(_detail(case)).content.decode()
        assert f"{CANARY}-desc" in text and f"{CANARY}-note" in text and "住房" in text
        assert _reads(user, case) == 1
    behalf = services.care_case_open(
        actor=cast.org_admin, person=cast.person(cast.member), category=Category.OTHER,
        description=f"{CANARY}-opener", consent_on=date(2026, 3, 9), consent_method="oral",
    )  # fmt: skip
    client.force_login(cast.org_admin)
    assert f"{CANARY}-opener" in client.get(_detail(behalf)).content.decode()
    assert _reads(cast.org_admin, behalf) == 1


@time_machine.travel(NOW, tick=False)
def test_it_shows_gongwei_and_dangwu_metadata_but_never_the_details(client, cast):
    case = _open(cast)
    _note(cast, case)
    for user in (cast.committee_admin, cast.org_admin):
        client.force_login(user)
        pages = [
            client.get(_detail(case)),
            client.get(reverse("care:cases")),
            client.get(reverse("care:ledger")),
            client.get("/api/v1/care-cases"),
            client.get(f"/api/v1/care-cases/{case.pk}"),
        ]
        assert all(p.status_code == 200 for p in pages)
        html = pages[0].content.decode()
        assert "刘洋" in html and "受理" in html and "只有本人、承办人和登记人可以查看" in html
        assert "刘洋" in pages[1].content.decode()
        for p in pages:
            assert CANARY.encode() not in p.content and "住房".encode() not in p.content
        assert "description" not in pages[4].json() and "category" not in pages[4].json()
        assert _reads(user, case) == 0


@time_machine.travel(NOW, tick=False)
def test_it_answers_404_outside_scope(client, cast):
    case = _open(cast)
    for user in (cast.outsider, cast.secretary_b, cast.leader, cast.counselor, cast.sysadmin):
        client.force_login(user)
        assert client.get(_detail(case)).status_code == 404
        assert client.post(_go(case), {"action": "start", "version": 1}).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(reverse("care:cases")).content.decode().count("刘洋") == 0


# --- the ledger and my cases ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_filters_the_ledger(client, cast):
    a = _open(cast)
    b = _open(cast, handler=Handler.UNION)
    services.care_case_transition(
        actor=cast.secretary_a, case=CareCase.objects.metadata_only().select_related("handler_org").get(pk=a.pk),
        action="start", version=1,
    )  # fmt: skip
    client.force_login(cast.committee_admin)

    def ids(**params):
        page = client.get(reverse("care:cases"), params).context["page"]
        return {c.pk for c in page.object_list}

    assert ids() == {a.pk, b.pk}
    assert ids(state=CaseState.IN_PROGRESS) == {a.pk}
    assert ids(handler=Handler.UNION) == {b.pk}
    assert ids(org=cast.branch_a1.pk) == {a.pk, b.pk}
    assert ids(org=cast.branch_b1.pk) == set()
    assert ids(q="刘") == {a.pk, b.pk} and ids(q="李") == set()
    assert ids(date_from="2026-03-11") == set() and ids(date_to="2026-03-10") == {a.pk, b.pk}
    client.force_login(cast.secretary_a)
    assert ids(mine="on") == {a.pk}
    client.force_login(cast.union)
    assert ids() == {b.pk}


def _cases(cast, n):
    people = [make_person(f"同志{i}", cast.unit_a, org=cast.branch_a1) for i in range(n)]
    for p in people:
        services.care_case_open(
            actor=cast.secretary_a, person=p, category=Category.OTHER, description="x",
            consent_on=date(2026, 3, 1), consent_method="oral",
        )  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_it_keeps_the_ledger_queries_flat(client, cast):
    client.force_login(cast.committee_admin)
    _cases(cast, 1)
    client.get(reverse("care:cases"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("care:cases")).status_code == 200
    _cases(cast, 12)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("care:cases"))
    assert len(page.context["page"].object_list) == 13
    assert len(many.captured_queries) == len(one.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_it_keeps_my_cases_queries_flat(client, cast):
    client.force_login(cast.member)
    _open(cast)
    client.get(reverse("care:mine"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("care:mine"))
    for _ in range(8):
        _open(cast)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("care:mine"))
    assert len(page.context["page"].object_list) == 9
    assert len(many.captured_queries) == len(one.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_it_lists_my_own_cases_with_the_report_button(client, cast):
    own = _open(cast)
    client.force_login(cast.member)
    resp = client.get(reverse("care:mine"))
    text = resp.content.decode()
    assert resp.status_code == 200 and "我要反映困难" in text and _detail(own) in text
    assert CANARY not in text
    client.force_login(cast.union)
    assert "没有关联人员信息" in client.get(reverse("care:mine")).content.decode()


# --- opening ----------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_takes_a_self_report(client, cast):
    client.force_login(cast.member)
    page = client.get(reverse("care:case_create"))
    assert page.status_code == 200 and "我要反映困难" in page.content.decode()
    resp = client.post(
        reverse("care:case_create"),
        {"category": Category.EDUCATION, "description": "孩子入学", "tier": "", "handler": Handler.SECRETARY},
    )
    case = CareCase.objects.get()
    assert resp.status_code == 302 and resp["Location"] == _detail(case)
    assert case.opened_via == OpenedVia.SELF and case.person == cast.person(cast.member)
    assert AuditEvent.objects.filter(
        action="care_case_open", object_id=str(case.pk), actor=cast.member
    ).exists()


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_self_report_without_a_category_with_422(client, cast):
    client.force_login(cast.member)
    resp = client.post(reverse("care:case_create"), {"description": "x", "handler": "secretary"})
    assert resp.status_code == 422 and "请选择困难类别。" in resp.content.decode()
    assert client.put(reverse("care:case_create")).status_code == 405
    assert not CareCase.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_registers_on_behalf_only_with_consent(client, cast):
    person = cast.person(cast.member)
    t = Talk.objects.create(
        org=cast.branch_a1, initiator=cast.person(cast.secretary_a), held_on=date(2026, 3, 9)
    )
    TalkParticipant.objects.create(talk=t, person=t.initiator, is_initiator=True)
    TalkParticipant.objects.create(talk=t, person=person)
    client.force_login(cast.secretary_a)
    page = client.get(reverse("care:case_create"), {"person": person.pk, "talk": t.pk})
    text = page.content.decode()
    assert (
        page.status_code == 200 and "未经本人同意，不能代为登记困难诉求" in text and "本人同意的方式" in text
    )
    data = {"person": person.pk, "talk": t.pk, "category": Category.FAMILY, "description": "家庭变故",
            "handler": Handler.SECRETARY, "consent_on": "", "consent_method": ""}  # fmt: skip
    resp = client.post(reverse("care:case_create"), data)
    assert resp.status_code == 422 and "须先征得本人同意" in resp.content.decode()
    assert not CareCase.objects.exists()
    resp = client.post(
        reverse("care:case_create"), {**data, "consent_on": "2026-03-09", "consent_method": "oral"}
    )
    case = CareCase.objects.get()
    assert resp.status_code == 302 and resp["Location"] == _detail(case)
    assert (
        case.opened_via == OpenedVia.SECRETARY
        and case.source_talk == t
        and case.consent_on == date(2026, 3, 9)
    )
    assert AuditEvent.objects.filter(action="care_case_open", object_id=str(case.pk)).exists()


@time_machine.travel(NOW, tick=False)
def test_it_guards_the_on_behalf_form(client, cast):
    client.force_login(cast.member)
    assert client.get(reverse("care:case_create"), {"behalf": "1"}).status_code == 403
    client.force_login(cast.secretary_a)
    assert (
        client.get(reverse("care:case_create"), {"person": cast.person(cast.outsider).pk}).status_code == 404
    )
    assert client.get(reverse("care:case_create"), {"person": "abc"}).status_code == 404
    client.force_login(cast.union)
    page = client.get(reverse("care:case_create"))
    assert page.status_code == 200 and page.context["behalf"] is True
    assert page.context["form"].initial["handler"] == Handler.UNION
    client.force_login(cast.outsider)
    other = Person.objects.get(name="刘洋")
    resp = client.post(reverse("care:case_create"), {"person": other.pk, "behalf": "1"})
    assert resp.status_code == 403 and not CareCase.objects.exists()


# --- actions ----------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_takes_a_workflow_step_from_the_case_page(client, cast):
    case = _open(cast)
    client.force_login(cast.secretary_a)
    page = client.get(_detail(case)).content.decode()
    assert 'id="action-start"' in page and 'id="action-add_action"' in page
    resp = client.post(_go(case), {"action": "start", "version": 1, "note": ""})
    assert resp.status_code == 302 and resp["Location"] == _detail(case)
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.version == 2
    assert AuditEvent.objects.filter(
        action="care_case_start", object_id=str(case.pk), actor=cast.secretary_a
    ).exists()
    assert client.get(_go(case)).status_code == 405


@time_machine.travel(NOW, tick=False)
def test_it_answers_403_409_and_422_on_the_case_page(client, cast):
    case = _open(cast)
    client.force_login(cast.org_admin)  # sees the case, does not handle it
    assert client.post(_go(case), {"action": "start", "version": 1}).status_code == 403
    client.force_login(cast.member)
    assert client.post(_go(case), {"action": "start", "version": 1}).status_code == 403
    client.force_login(cast.secretary_a)
    resp = client.post(_go(case), {"action": "resolve", "version": 1})
    assert resp.status_code == 409 and "不能执行“办结”" in resp.content.decode()
    resp = client.post(_go(case), {"action": "start", "version": 9})
    assert resp.status_code == 409 and "已被他人处理" in resp.content.decode()
    resp = client.post(_go(case), {"action": "add_action", "version": 1, "note": "", "kind": "help"})
    assert resp.status_code == 422 and "请填写帮扶情况。" in resp.content.decode()
    assert client.post(_go(case), {"action": "nope", "version": 1}).status_code == 422
    assert CareCase.objects.get(pk=case.pk).version == 1


@time_machine.travel(NOW, tick=False)
def test_it_lets_the_person_rate_and_reopen(client, cast):
    case = _open(cast)
    for action in ("start", "resolve"):
        fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
        services.care_case_transition(
            actor=cast.secretary_a, case=fresh, action=action, version=fresh.version
        )
    client.force_login(cast.member)
    page = client.get(_detail(case)).content.decode()
    assert 'id="action-rate"' in page and 'id="action-reopen"' in page and 'id="action-start"' not in page
    resp = client.post(_go(case), {"action": "rate", "version": 3})
    assert resp.status_code == 422 and "请选择满意度" in resp.content.decode()
    assert client.post(_go(case), {"action": "rate", "version": 3, "satisfaction": "4"}).status_code == 302
    case.refresh_from_db()
    assert (case.state, case.satisfaction) == (CaseState.FOLLOWED_UP, 4)
    resp = client.post(_go(case), {"action": "reopen", "version": 4, "note": ""})
    assert resp.status_code == 422 and "重新打开的原因" in resp.content.decode()
    assert client.post(_go(case), {"action": "reopen", "version": 4, "note": "又出现了"}).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_home_card_to_the_handler_and_the_person_only(client, cast):
    _open(cast)
    client.force_login(cast.secretary_a)
    text = client.get(reverse("core:home")).content.decode()
    assert "有 <strong>1</strong> 项困难诉求等待您办理" in text and CANARY not in text
    client.force_login(cast.member)
    assert (
        "您反映的困难诉求中有 <strong>1</strong> 项正在办理"
        in client.get(reverse("core:home")).content.decode()
    )
    client.force_login(cast.outsider)
    assert "项困难诉求等待您办理" not in client.get(reverse("core:home")).content.decode()
