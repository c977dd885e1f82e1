"""Budgets and spending through the services: CAS versions, Chinese validation, activity scope, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from sizheng.care import services as care
from sizheng.care.models import Category as CareCategory
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, StoredFile
from sizheng.funds import services
from sizheng.funds.models import Budget, BudgetLine, Spending
from sizheng.funds.tests.conftest import budget, spend
from sizheng.life.models import MeetingKind
from sizheng.study import services as study
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


def _audit(action, obj):
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).first()


def test_it_draws_up_and_adjusts_a_budget_with_versions_and_audit(fc):
    b, created = services.budget_save(
        actor=fc.manager,
        unit=fc.unit_a,
        year=2026,
        amounts={"study": "1,000.10", "care": D("500")},
        note="批复",
    )
    assert created and b.version == 1
    assert dict(b.lines.values_list("category", "amount")) == {
        "study": D("1000.10"), "position": D("0"), "care": D("500.00"), "activity": D("0"), "training": D("0"),
        "other": D("0"),
    }  # fmt: skip
    assert _audit("funds_budget_create", b).detail == {"unit": fc.unit_a.pk, "year": 2026}
    b2, created = services.budget_save(
        actor=fc.manager, unit=fc.unit_a, year=2026, amounts={"study": "1000.10", "care": "600"}, version=1
    )
    assert not created and b2.version == 2 and b2.note == ""
    assert BudgetLine.objects.get(budget=b, category="care").amount == D("600.00")
    assert _audit("funds_budget_update", b).detail["fields"] == ["amount.care", "note"]
    with pytest.raises(Conflict, match="已被他人修改"):
        services.budget_save(actor=fc.manager, unit=fc.unit_a, year=2026, amounts={}, version=1)
    with pytest.raises(Conflict, match="已经编制"):
        services.budget_save(actor=fc.manager, unit=fc.unit_a, year=2026, amounts={})
    assert Budget.objects.get().version == 2


def test_it_refuses_negative_sub_cent_and_unknown_amounts_in_chinese(fc):
    with pytest.raises(ValidationError) as exc:
        services.budget_save(
            actor=fc.manager, unit=fc.unit_a, year=2026, amounts={"care": "-1", "study": "0.001"}
        )
    assert exc.value.message_dict == {
        "study": ["“学习教育”预算最多保留两位小数（精确到分）。"], "care": ["“关爱慰问”预算不能为负数。"],
    }  # fmt: skip
    with pytest.raises(ValidationError, match="未知的经费类别"):
        services.budget_save(actor=fc.manager, unit=fc.unit_a, year=2026, amounts={"party": "1"})
    with pytest.raises(ValidationError, match="年度须在"):
        services.budget_save(actor=fc.manager, unit=fc.unit_a, year=1999, amounts={})
    assert not Budget.objects.exists()


def test_it_lets_only_the_units_managers_write(fc):
    for user in (fc.leader, fc.secretary_a, fc.org_admin, fc.manager_c, fc.outsider):
        with pytest.raises(PermissionDenied):
            services.budget_save(actor=user, unit=fc.unit_a, year=2026, amounts={})
    services.budget_save(actor=fc.manager_c, unit=fc.unit_c, year=2026, amounts={"study": "1"})


def test_it_records_changes_and_deletes_a_spending_with_cas_and_audit(fc):
    s = services.spending_record(
        actor=fc.manager, unit=fc.unit_a, spent_on=date(2026, 6, 1), amount="1,286.40", category="activity",
        purpose=" 七一主题党日 ", receipt=SimpleUploadedFile("发票.pdf", PDF, content_type="application/pdf"),
    )  # fmt: skip
    assert s.amount == D("1286.40") and s.purpose == "七一主题党日" and s.created_by == fc.manager
    stored = StoredFile.objects.get()
    assert s.receipt == stored and stored.owner_kind == "funds_spending" and stored.owner_id == s.pk
    assert _audit("funds_spending_record", s).detail == {
        "unit": fc.unit_a.pk,
        "activity": ["", None],
        "receipt": True,
    }
    s = services.spending_update(
        actor=fc.manager, spending=s, version=1, spent_on=date(2026, 6, 2), amount=D("1286.41"),
        category="activity", purpose="七一主题党日", remove_receipt=True,
    )  # fmt: skip
    assert s.version == 2 and s.amount == D("1286.41") and s.receipt is None
    assert _audit("funds_spending_update", s).detail["fields"] == ["spent_on", "amount", "receipt"]
    with pytest.raises(Conflict):
        services.spending_update(actor=fc.manager, spending=s, version=1, spent_on=date(2026, 6, 2),
                                 amount="1", category="other", purpose="x")  # fmt: skip
    with pytest.raises(Conflict):
        services.spending_delete(actor=fc.manager, spending=s, version=1)
    assert Spending.objects.filter(pk=s.pk).exists()
    pk = s.pk
    services.spending_delete(actor=fc.manager, spending=s, version=2)
    assert not Spending.objects.filter(pk=pk).exists()
    row = AuditEvent.objects.get(action="funds_spending_delete", object_id=str(pk))
    assert row.detail == {"unit": fc.unit_a.pk, "receipt": None}
    assert AuditEvent.objects.filter(action="funds_spending_delete").count() == 1  # the stale try left none


def test_it_refuses_bad_spending_with_chinese_messages(fc):
    with pytest.raises(ValidationError) as exc:
        services.spending_record(actor=fc.manager, unit=fc.unit_a, spent_on=date(2026, 6, 16), amount="-3",
                                 category="party", purpose=" ")  # fmt: skip
    assert exc.value.message_dict == {
        "spent_on": ["支出日期不能晚于今天；尚未发生的支出请在发生后登记。"],
        "amount": ["支出金额不能为负数。"],
        "category": ["请选择经费类别。"],
        "purpose": ["请填写支出用途，例如“七一主题党日活动场地及资料费”。"],
    }
    with pytest.raises(ValidationError, match="必须大于 0 元"):
        spend(fc, "0")
    with pytest.raises(ValidationError, match="内容与扩展名"):
        spend(fc, "1", receipt=SimpleUploadedFile("发票.pdf", b"not a pdf at all"))
    assert not Spending.objects.exists()


def test_it_checks_the_activity_exists_in_the_unit_and_in_scope(fc):
    meeting = lecture(fc.cast, date(2026, 5, 20), kind=MeetingKind.THEME_DAY)
    s = spend(fc, "88.80", category="activity", activity_kind="meeting", activity_id=meeting.pk)
    assert (s.activity_kind, s.activity_id) == ("meeting", meeting.pk)
    session = study.session_link(actor=fc.secretary_a, meeting=lecture(fc.cast, date(2026, 5, 21)))
    spend(fc, "10", category="training", activity_kind="study_session", activity_id=session.pk)
    case = care.care_case_open(actor=fc.member, person=fc.person(fc.member), category=CareCategory.MEDICAL,
                               description="住院")  # fmt: skip
    s = services.spending_record(actor=fc.manager, unit=fc.unit_a, spent_on=date(2026, 6, 1), amount="500",
                                 category="care", purpose="慰问", activity_kind="care_case", activity_id=case.pk)  # fmt: skip
    assert s.activity_id == case.pk
    with pytest.raises(ValidationError, match="不属于市司法局"):  # a unit A meeting for unit C
        services.spending_record(actor=fc.committee_admin, unit=fc.unit_c, spent_on=date(2026, 6, 1), amount="1",
                                 category="activity", purpose="x", activity_kind="meeting", activity_id=meeting.pk)  # fmt: skip
    with pytest.raises(ValidationError, match="未找到编号为 999999 的困难诉求"):
        spend(fc, "1", category="care", activity_kind="care_case", activity_id=999999)
    with pytest.raises(ValidationError, match="请选择支出服务的活动类型"):
        spend(fc, "1", activity_kind="talk", activity_id=1)
    with pytest.raises(ValidationError, match="请填写支出服务的活动编号"):
        spend(fc, "1", activity_kind="meeting")
    # Ids only in the audit row: nothing of the case's details.
    detail = _audit("funds_spending_record", s).detail
    assert detail["activity"] == ["care_case", case.pk] and "住院" not in str(detail)


def test_it_keeps_one_budget_per_unit_and_year(fc):
    budget(fc)
    budget(fc, year=2025)
    budget(fc, unit=fc.unit_b)
    assert Budget.objects.count() == 3
