"""The roster import: all-or-nothing upsert, exact bad-row reporting, scope, audit, the CLI and the web flow."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sizheng.core.crypto import blind_index
from sizheng.core.models import AuditEvent, Role, RoleGrant
from sizheng.org import importer, services
from sizheng.org.idcard import make_id_number
from sizheng.org.models import ID_INDEX_PURPOSE, Office, Org, Person, PersonMove, PoliticalStatus, Unit
from sizheng.org.testing import make_org
from sizheng.org.tests.test_roster_parse import FULL_WIDTH, xls, xlsx

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "姓名",
    "性别",
    "出生年月",
    "身份证号",
    "政治面貌",
    "单位",
    "所在党支部",
    "处室",
    "入党时间",
    "转正时间",
    "手机号",
]
TITLES = ("市财政局干部职工花名册", "填报单位：市财政局（盖章）")
UPLOAD = reverse("org:roster_import")
CONFIRM = reverse("org:roster_import_confirm")


def new_id(born: date, seq: int) -> str:
    """A valid 身份证号 no cast member has (region 320102)."""
    return make_id_number("320102", born, seq)


def sheet(
    records: list[dict | None], *, header: list[str] = HEADER, titles: tuple[str, ...] = TITLES
) -> bytes:
    """An .xlsx with title rows, the header, and one row per record (None: a blank line)."""
    rows = [header] + [[rec.get(h, "") for h in header] if rec else [] for rec in records]
    return xlsx(rows, titles=titles)


def member(name: str, born: date, seq: int, **extra) -> dict:
    """A clean row of a new party member of branch A1 in office 办公室."""
    rec = {
        "姓名": name, "性别": "男", "出生年月": f"{born.year}.{born.month:02d}", "身份证号": new_id(born, seq),
        "政治面貌": "中共党员", "单位": "市财政局", "所在党支部": "A1", "处室": "办公室",
        "入党时间": "2010-07-01", "转正时间": "2011-07-01", "手机号": f"1390000{seq:04d}",
    }  # fmt: skip
    rec.update(extra)
    return rec


def messy_file(cast) -> tuple[bytes, set[tuple[int, str]]]:
    """A messy roster (two title rows, header on row 3, a blank line) and exactly its bad cells."""
    liu = cast.person(cast.member)
    good_id = new_id(date(1985, 6, 1), 1)
    records = [
        member("张三", date(1985, 6, 1), 1),  # row 4: good, new
        None,  # row 5: blank line
        member("李四", date(1986, 1, 2), 2, 身份证号=new_id(date(1986, 1, 2), 2)[:-1] + "0"),  # 6: checksum
        {"姓名": "王　芳", "性别": "女", "身份证号": new_id(date(1990, 3, 3), 3).lower(), "政治面貌": "群众",
         "单位": "财政局", "处室": "预算处"},  # row 7: good, new non-member (short unit name)
        member("赵六", date(1987, 2, 2), 4, 出生年月="1987.13"),  # 8: bad date
        member("钱七", date(1987, 3, 3), 5, 处室="财务处"),  # 9: unknown office
        member("孙八", date(1985, 6, 1), 6, 身份证号=good_id.translate(FULL_WIDTH)),  # 10: duplicate of row 4
        member("周九", date(1987, 4, 4), 7, 身份证号=""),  # 11: no ID
        member("吴十", date(1987, 5, 5), 8, 入党时间="2012-07-01", 转正时间="2011-07-01"),  # 12: confirmed first
        member("郑一", date(1987, 6, 6), 9, 政治面貌="党外"),  # 13: unknown status
        {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13912345678"},  # row 14: good, update
        member("冯二", date(2005, 1, 1), 10, 入党时间="2015-07-01", 转正时间="2016-07-01"),  # 15: under 18
        member("陈三", date(1980, 1, 1), 11, 入党时间=f"{timezone.localdate().year + 1}-01-01", 转正时间=""),  # 16
        member("褚四", date(1980, 2, 2), 12, 所在党支部="Z9"),  # 17: unknown org
        member("卫五", date(1980, 3, 3), 13, 出生年月="1981.03"),  # 18: birth month ≠ the ID's
    ]  # fmt: skip
    bad = {
        (6, "身份证号"), (8, "出生年月"), (9, "处室"), (10, "身份证号"), (11, "身份证号"), (12, "转正时间"),
        (13, "政治面貌"), (15, "入党时间"), (16, "入党时间"), (17, "所在党支部"), (18, "出生年月"),
    }  # fmt: skip
    return sheet(records), bad


def _snapshot():
    return (
        Person.objects.count(),
        AuditEvent.objects.count(),
        PersonMove.objects.count(),
        sorted(Person.objects.values_list("pk", "version")),
    )


# --- all-or-nothing, exact rows ----------------------------------------------------------------------


def test_it_reports_exactly_the_bad_rows_of_a_messy_file_and_writes_nothing(cast):
    data, bad = messy_file(cast)
    before = _snapshot()
    result = importer.roster_import(actor=None, source=data)
    assert {(e["row"], e["column"]) for e in result.errors} == bad
    assert [e["row"] for e in result.errors] == sorted(e["row"] for e in result.errors)
    by_row = {e["row"]: e["message"] for e in result.errors}
    assert "第 4 行" in by_row[10]
    assert by_row[11] == "身份证号为必填项，用于识别人员。"
    assert "财务处" in by_row[9] and "办公室、预算处" in by_row[9]
    assert "十八周岁" in by_row[15] and "晚于今天" in by_row[16] and "转正日期必须晚于入党日期" in by_row[12]
    assert all(e["message"].endswith("。") for e in result.errors)
    assert (result.created, result.updated) == (0, 0)
    assert _snapshot() == before


def test_it_imports_the_same_roster_once_the_bad_rows_are_fixed(cast):
    liu = cast.person(cast.member)
    data = sheet([
        member("张三", date(1985, 6, 1), 1),
        None,
        {"姓名": "王　芳", "性别": "女", "身份证号": new_id(date(1990, 3, 3), 3).lower(), "政治面貌": "群众",
         "单位": "财政局", "处室": "预算处"},
        {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13912345678"},
    ])  # fmt: skip
    result = importer.roster_import(actor=None, source=data)
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    zhang = Person.objects.get(id_index=blind_index(new_id(date(1985, 6, 1), 1), purpose=ID_INDEX_PURPOSE))
    assert (zhang.name, zhang.org, zhang.office.name, zhang.joined_on) == (
        "张三",
        cast.branch_a1,
        "办公室",
        date(2010, 7, 1),
    )
    assert zhang.birth_date == date(1985, 6, 1) and zhang.birth_month_only
    wang = Person.objects.get(name="王芳")
    assert (wang.unit, wang.org, wang.political_status) == (cast.unit_a, None, PoliticalStatus.MASSES)
    assert wang.id_number == new_id(date(1990, 3, 3), 3)  # lower-case x normalised
    assert wang.birth_date == date(1990, 3, 3) and not wang.birth_month_only  # taken from the ID
    liu.refresh_from_db()
    assert liu.phone == "13912345678" and liu.version == 2


def test_it_stores_identifiers_encrypted_with_the_blind_index_after_bulk_create(cast):
    number = new_id(date(1985, 6, 1), 1)
    importer.roster_import(actor=None, source=sheet([member("张三", date(1985, 6, 1), 1)]))
    person = Person.objects.get(name="张三")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, id_index FROM org_person WHERE id = %s", [person.pk])
        raw_id, raw_phone, index = cursor.fetchone()
    assert raw_id.startswith("v1:") and number not in raw_id
    assert raw_phone.startswith("v1:") and "1390000" not in raw_phone
    assert index == blind_index(number, purpose=ID_INDEX_PURPOSE)
    assert person.id_number == number and person.phone == "13900000001"


def test_it_reports_a_roster_without_data_or_with_only_blank_lines(cast):
    result = importer.roster_import(actor=None, source=sheet([None, None]))
    assert result.errors == [{"row": 3, "column": "", "message": "表头下面没有人员数据。"}]


# --- upsert ------------------------------------------------------------------------------------------


def test_it_changes_only_what_differs_and_counts_identical_rows_as_unchanged(cast):
    liu, zhao = cast.person(cast.member), cast.person(cast.org_admin)
    data = sheet([
        {"姓名": liu.name, "身份证号": liu.id_number.translate(FULL_WIDTH), "手机号": liu.phone},
        {"姓名": zhao.name, "身份证号": zhao.id_number, "政治面貌": "党员", "手机号": "", "处室": "办公室"},
    ])  # fmt: skip
    audit_before = AuditEvent.objects.count()
    result = importer.roster_import(actor=None, source=data)
    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 2, [])
    liu.refresh_from_db()
    zhao.refresh_from_db()
    assert liu.version == 1 and zhao.version == 1
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:1]) == ["roster_import"]
    assert AuditEvent.objects.count() == audit_before + 1


def test_it_updates_changed_fields_with_a_person_update_audit_row_naming_fields_only(cast):
    liu = cast.person(cast.member)
    data = sheet([{"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13912345678", "性别": "男"}])
    result = importer.roster_import(actor=None, source=data)
    assert (result.updated, result.errors) == (1, [])
    event = AuditEvent.objects.get(action="person_update", object_id=str(liu.pk))
    assert set(event.detail["fields"]) <= {"phone", "gender"} and "phone" in event.detail["fields"]
    assert "13912345678" not in json.dumps(event.detail)
    liu.refresh_from_db()
    assert liu.phone == "13912345678" and liu.version == 2


def test_it_transfers_a_changed_org_keeping_history_and_moving_the_member_role(cast):
    liu = cast.person(cast.member)
    data = sheet([{"姓名": liu.name, "身份证号": liu.id_number, "所在党支部": "A2", "处室": "办公室"}])
    result = importer.roster_import(actor=cast.org_admin, source=data)
    assert result.errors == [{"row": 4, "column": "所在党支部", "message": "您无权向该党组织导入人员。"}]
    result = importer.roster_import(actor=None, source=data)
    assert (result.updated, result.errors) == (1, [])
    liu.refresh_from_db()
    assert (liu.org, liu.office, liu.version) == (cast.branch_a2, cast.office_a1, 2)
    move = PersonMove.objects.get(person=liu)
    assert (move.from_org, move.to_org, move.from_office, move.reason) == (
        cast.branch_a1,
        cast.branch_a2,
        cast.office_a2,
        "名册导入",
    )
    assert move.on == timezone.localdate()
    grant = RoleGrant.objects.get(user=cast.member, role=Role.MEMBER)
    assert grant.scope_id == cast.branch_a2.pk
    assert AuditEvent.objects.filter(action="person_transfer", object_id=str(liu.pk)).exists()


def test_it_makes_a_member_of_someone_who_joins_the_party_in_one_row(cast):
    zhou = Person.objects.get(name="周杰")  # a non-member of unit A
    data = sheet([{"姓名": "周杰", "身份证号": zhou.id_number, "政治面貌": "预备党员", "所在党支部": "A1",
                   "入党时间": "2025-07-01"}])  # fmt: skip
    result = importer.roster_import(actor=None, source=data)
    assert result.errors == []
    zhou.refresh_from_db()
    assert (zhou.political_status, zhou.org, zhou.joined_on) == (
        PoliticalStatus.CPC_PROBATIONARY,
        cast.branch_a1,
        date(2025, 7, 1),
    )
    assert zhou.office == cast.office_a2  # same unit: the office stays


def test_it_reports_a_person_changed_by_someone_else_meanwhile_and_writes_nothing(cast, monkeypatch):
    liu = cast.person(cast.member)
    create = importer._create

    def racing_create(actor, plans):
        Person.objects.filter(pk=liu.pk).update(version=F("version") + 1)  # another editor saves first
        create(actor, plans)

    monkeypatch.setattr(importer, "_create", racing_create)
    data = sheet(
        [
            member("张三", date(1985, 6, 1), 1),
            {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13911112222"},
        ]
    )
    result = importer.roster_import(actor=None, source=data)
    assert result.errors == [
        {"row": 5, "column": "", "message": "导入过程中该人员信息已被他人修改，未写入任何数据；请重新导入。"}
    ]
    assert (result.created, result.updated) == (0, 0)
    assert not Person.objects.filter(name="张三").exists()
    assert not AuditEvent.objects.filter(action="roster_import").exists()


# --- matching units, offices and orgs ----------------------------------------------------------------


def test_it_uses_the_default_org_only_for_members_who_name_none(cast):
    rows = [
        member("张三", date(1985, 6, 1), 1, 所在党支部="", 单位="", 处室=""),
        {"姓名": "李四", "身份证号": new_id(date(1986, 1, 2), 2), "政治面貌": "群众", "单位": "市财政局"},
    ]
    result = importer.roster_import(actor=None, source=sheet(rows), default_org="A2")
    assert result.errors == []
    zhang, li = Person.objects.get(name="张三"), Person.objects.get(name="李四")
    assert (zhang.org, zhang.unit) == (cast.branch_a2, cast.unit_a)  # unit from the org's only unit
    assert li.org is None
    missing = importer.roster_import(actor=None, source=sheet(rows), default_org="NOPE", dry_run=True)
    assert missing.errors[0]["row"] is None and "NOPE" in missing.errors[0]["message"]
    without = importer.roster_import(
        actor=None, source=sheet([member("王五", date(1987, 1, 1), 3, 所在党支部="")])
    )
    assert without.errors == [{"row": 4, "column": "所在党支部", "message": "党员必须有所在党组织。"}]


def test_it_matches_orgs_by_code_or_name_and_explains_ambiguous_and_unsuitable_ones(cast):
    make_org("市财政局机关第一支部委员会", Org.Kind.BRANCH, cast.committee_a, "A1-DUP", units=[cast.unit_a])
    dissolved = make_org("已撤销支部", Org.Kind.BRANCH, cast.committee_a, "OLD", units=[cast.unit_a])
    Org.objects.filter(pk=dissolved.pk).update(dissolved_on=date(2020, 1, 1))
    rows = [
        member("甲", date(1980, 1, 1), 1, 所在党支部="a2"),
        member("乙", date(1980, 1, 2), 2, 所在党支部="中共市财政局机关第二支部委员会"),
        member("丙", date(1980, 1, 3), 3, 所在党支部="市财政局机关第一支部委员会"),
        member("丁", date(1980, 1, 4), 4, 所在党支部="A-LG"),
        member("戊", date(1980, 1, 5), 5, 所在党支部="OLD"),
        member("己", date(1980, 1, 6), 6, 所在党支部="B1"),
    ]
    result = importer.roster_import(actor=None, source=sheet(rows), dry_run=True)
    messages = {e["row"]: e["message"] for e in result.errors}
    assert set(messages) == {6, 7, 8, 9}
    assert "A1" in messages[6] and "A1-DUP" in messages[6]
    assert "党组" in messages[7] and "已撤销" in messages[8]
    assert "不属于“市财政局”" in messages[9]
    assert result.created == 2


def test_it_matches_units_by_short_name_and_explains_unknown_or_ambiguous_ones(cast):
    Unit.objects.create(name="省财政局", short_name="财政局", code="U-P")
    rows = [
        {"姓名": "甲", "身份证号": new_id(date(1980, 1, 1), 1), "政治面貌": "群众", "单位": "财政局"},
        {"姓名": "乙", "身份证号": new_id(date(1980, 1, 2), 2), "政治面貌": "群众", "单位": "教育局"},
        {"姓名": "丙", "身份证号": new_id(date(1980, 1, 3), 3), "政治面貌": "群众", "单位": "市水务局"},
        {"姓名": "丁", "身份证号": new_id(date(1980, 1, 4), 4), "政治面貌": "群众"},
    ]
    result = importer.roster_import(actor=None, source=sheet(rows), dry_run=True)
    messages = {(e["row"], e["column"]): e["message"] for e in result.errors}
    assert set(messages) == {(4, "单位"), (6, "单位"), (7, "单位")}
    assert "市财政局" in messages[(4, "单位")] and "省财政局" in messages[(4, "单位")]
    assert "市水务局" in messages[(6, "单位")]
    assert result.created == 1


def test_it_maps_person_check_errors_to_the_files_own_column_headers(cast):
    header = [
        "姓名",
        "出生日期",
        "公民身份证号码",
        "政治面貌",
        "工作单位",
        "所在党组织",
        "入党日期",
        "转正日期",
    ]
    born = date(1980, 5, 5)
    rows = [
        {"姓名": "甲", "出生日期": "1980-05-05", "公民身份证号码": new_id(born, 1), "政治面貌": "预备党员",
         "工作单位": "市财政局", "所在党组织": "A1", "入党日期": "2024-01-01", "转正日期": "2025-01-01"},
        {"姓名": "乙" * 51, "出生日期": "1980-05-05", "公民身份证号码": new_id(born, 2), "政治面貌": "群众",
         "工作单位": "市财政局"},
    ]  # fmt: skip
    result = importer.roster_import(actor=None, source=sheet(rows, header=header, titles=()), dry_run=True)
    assert {(e["row"], e["column"]) for e in result.errors} == {(2, "转正日期"), (3, "姓名")}
    assert "预备党员尚未转正" in result.errors[0]["message"]


def test_it_checks_exactly_what_person_validate_checks(cast):
    base = {
        "name": "甲",
        "unit": cast.unit_a,
        "political_status": PoliticalStatus.CPC_MEMBER,
        "org": cast.branch_a1,
    }
    cases = [
        {"name": ""},
        {"id_number": "110101198001010000"},
        {"org": None},
        {"office": cast.office_b},
        {"joined_on": date(2011, 1, 1), "confirmed_on": date(2010, 1, 1)},
        {"birth_date": date(2000, 1, 1), "joined_on": date(2010, 1, 1)},
        {"phone": "1" * 30},
        {"birth_date": timezone.localdate() + timedelta(days=1)},
    ]
    for changes in cases:
        person = Person(**{**base, **changes})
        with pytest.raises(ValidationError) as exc:
            services.person_validate(person)
        assert set(exc.value.message_dict) <= set(importer.validate_person(Person(**{**base, **changes}))), (
            changes
        )
    assert importer.validate_person(Person(**base)) == {}


# --- scope ---------------------------------------------------------------------------------------------


def test_it_refuses_rows_outside_the_importers_scope(cast):
    li = cast.person(cast.secretary_b)
    rows = [
        member("甲", date(1980, 1, 1), 1),
        member("乙", date(1980, 1, 2), 2, 单位="市教育局", 所在党支部="B1", 处室="基础教育处"),
        {"姓名": li.name, "身份证号": li.id_number, "手机号": "13911112222"},
        {"姓名": "丙", "身份证号": new_id(date(1980, 1, 3), 3), "政治面貌": "群众", "单位": "市财政局"},
    ]
    result = importer.roster_import(actor=cast.org_admin, source=sheet(rows), dry_run=True)
    assert {(e["row"], e["column"], e["message"]) for e in result.errors} == {
        (5, "所在党支部", "您无权向该党组织导入人员。"),
        (6, "身份证号", "该身份证号对应的人员不在您的管理范围内，不能通过导入修改。"),
        (7, "单位", "您无权向该单位导入人员。"),
    }
    everything = importer.roster_import(actor=cast.committee_admin, source=sheet(rows), dry_run=True)
    assert everything.errors == []


def test_it_lets_only_org_admins_and_the_committee_admin_import(cast):
    assert importer.may_import(cast.org_admin) and importer.may_import(cast.committee_admin)
    for user in (cast.secretary_a, cast.member, cast.leader, cast.outsider, cast.counselor, cast.sysadmin):
        assert not importer.may_import(user), user
    assert set(importer.importable_orgs(cast.org_admin)) == {cast.branch_a1}
    assert cast.leading_a not in set(importer.importable_orgs(cast.committee_admin))


# --- audit, dry run, size ------------------------------------------------------------------------------


def test_it_writes_one_roster_import_row_with_counts_only_and_a_row_per_person(cast):
    liu = cast.person(cast.member)
    data = sheet(
        [
            member("张三", date(1985, 6, 1), 1),
            {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13911112222"},
        ]
    )
    result = importer.roster_import(actor=cast.org_admin, source=data)
    assert (result.created, result.updated) == (1, 1)
    event = AuditEvent.objects.get(action="roster_import")
    assert event.actor == cast.org_admin
    assert event.detail == {"created": 1, "updated": 1, "unchanged": 0, "rows": 2}
    zhang = Person.objects.get(name="张三")
    created = AuditEvent.objects.get(action="person_create", object_id=str(zhang.pk))
    assert created.actor == cast.org_admin and created.object_type == "org.person"
    assert "id_number" not in created.detail["fields"] and "phone" not in created.detail["fields"]
    text = json.dumps(list(AuditEvent.objects.values("detail", "object_repr")), ensure_ascii=False)
    assert zhang.id_number not in text and "13911112222" not in text


def test_it_writes_nothing_on_a_dry_run_but_counts_what_would_happen(cast):
    liu = cast.person(cast.member)
    data = sheet(
        [
            member("张三", date(1985, 6, 1), 1),
            {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13911112222"},
        ]
    )
    before = _snapshot()
    result = importer.roster_import(actor=None, source=data, dry_run=True)
    assert (result.created, result.updated, result.dry_run) == (1, 1, True)
    assert [p["action"] for p in result.preview] == ["新增", "更新"]
    assert result.preview[0]["id_number"].count("*") == 11 and result.preview[1]["changes"] == ["联系电话"]
    assert _snapshot() == before


def test_it_needs_a_few_queries_per_batch_not_per_row(cast):
    liu = cast.person(cast.member)
    rows = [member(f"人员{i}", date(1970 + i % 20, 1 + i % 12, 1), i) for i in range(300)]
    rows.append({"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13911112222", "所在党支部": "A2"})
    with CaptureQueriesContext(connection) as queries:
        result = importer.roster_import(actor=cast.committee_admin, source=sheet(rows))
    assert (result.created, result.updated, result.errors) == (300, 1, [])
    # SQLite takes at most 999 parameters a statement, so bulk inserts go in batches of a few dozen rows.
    assert len(queries) <= 40


def test_it_imports_an_xls_file(cast):
    rows = [
        list(TITLES[:1]),
        [],
        HEADER,
        [
            1,
            "张三",
            "男",
            date(1985, 6, 1),
            new_id(date(1985, 6, 1), 1),
            "中共党员",
            "市财政局",
            "A1",
            "办公室",
            date(2010, 7, 1),
            date(2011, 7, 1),
            "13900000001",
        ],
    ]
    result = importer.roster_import(actor=None, source=xls(rows))
    assert (result.created, result.errors) == (1, [])
    assert Person.objects.get(name="张三").birth_date == date(1985, 6, 1)


# --- the command ---------------------------------------------------------------------------------------


def test_it_prints_json_and_exits_with_status_1_on_errors(cast, tmp_path):
    data, bad = messy_file(cast)
    path = tmp_path / "名册.xlsx"
    path.write_bytes(data)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_roster", str(path), "--json", stdout=out)
    assert exc.value.code == 1
    printed = json.loads(out.getvalue())
    assert (printed["created"], printed["updated"]) == (0, 0)
    assert {(e["row"], e["column"]) for e in printed["errors"]} == bad
    assert all(set(e) == {"row", "column", "message"} for e in printed["errors"])
    assert not Person.objects.filter(name="张三").exists()


def test_it_imports_from_the_command_line_with_a_default_org_and_a_chinese_summary(cast, tmp_path):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(sheet([member("张三", date(1985, 6, 1), 1, 所在党支部="")]))
    out = io.StringIO()
    call_command("import_roster", str(path), "--org", "A2", "--dry-run", stdout=out)
    assert "试导入完成（未写入）：将新增 1 人" in out.getvalue()
    assert not Person.objects.filter(name="张三").exists()
    out = io.StringIO()
    call_command("import_roster", str(path), "--org", "A2", "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] == 1
    assert Person.objects.get(name="张三").org == cast.branch_a2
    event = AuditEvent.objects.get(action="roster_import")
    assert event.actor is None


def test_it_prints_each_error_with_row_and_column_in_chinese(cast, tmp_path):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(sheet([member("赵六", date(1987, 2, 2), 4, 出生年月="1987.13")]))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_roster", str(path), stdout=out, stderr=err)
    assert "第 4 行“出生年月”列：" in err.getvalue() and "未写入任何数据" in err.getvalue()
    with pytest.raises(SystemExit):
        call_command("import_roster", str(tmp_path / "nope.xlsx"), "--json", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue())["errors"][0]["row"] is None


# --- the web flow --------------------------------------------------------------------------------------


@pytest.fixture
def var_dir(settings, tmp_path):
    """Uploads go to a throwaway VAR_DIR and MEDIA_ROOT (staged rosters wait in the media storage)."""
    settings.VAR_DIR, settings.MEDIA_ROOT = tmp_path, tmp_path / "media"
    return tmp_path


def staged(var_dir) -> list:
    """The staged uploads on the filesystem storage."""
    folder = var_dir / "media" / importer.UPLOAD_PREFIX
    return sorted(folder.iterdir()) if folder.exists() else []


def _upload(client, data: bytes, name: str = "名册.xlsx", **extra):
    file = io.BytesIO(data)
    file.name = name
    return client.post(UPLOAD, {"file": file, **extra})


def test_it_shows_the_upload_page_to_org_admins_and_the_committee_admin_only(client, cast, var_dir):
    for user in (cast.org_admin, cast.committee_admin):
        client.force_login(user)
        response = client.get(UPLOAD)
        assert response.status_code == 200
        assert "上传并检查" in response.content.decode()
    for user in (cast.member, cast.outsider, cast.secretary_a, cast.leader, cast.sysadmin):
        client.force_login(user)
        assert client.get(UPLOAD).status_code == 404, user
        assert client.post(CONFIRM, {"token": "x"}).status_code == 404, user
    client.logout()
    assert client.get(UPLOAD).status_code == 302


def test_it_answers_405_to_wrong_methods(client, cast, var_dir):
    client.force_login(cast.org_admin)
    assert client.delete(UPLOAD).status_code == 405
    assert client.get(CONFIRM).status_code == 405


def test_it_previews_then_imports_on_confirmation_and_deletes_the_upload(client, cast, var_dir):
    client.force_login(cast.org_admin)
    liu = cast.person(cast.member)
    data = sheet(
        [
            member("张三", date(1985, 6, 1), 1),
            {"姓名": liu.name, "身份证号": liu.id_number, "手机号": "13911112222"},
        ]
    )
    response = _upload(client, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "确认导入" in html and "张三" in html and new_id(date(1985, 6, 1), 1) not in html
    assert not Person.objects.filter(name="张三").exists()
    token = client.session["roster_import"]["token"]
    assert [p.name for p in staged(var_dir)] == [f"{token}.u{cast.org_admin.pk}.xlsx"]

    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 200
    assert "导入完成" in response.content.decode()
    assert Person.objects.get(name="张三").org == cast.branch_a1
    liu.refresh_from_db()
    assert liu.phone == "13911112222"
    assert AuditEvent.objects.get(action="roster_import").actor == cast.org_admin
    assert staged(var_dir) == []
    assert "roster_import" not in client.session
    again = client.post(CONFIRM, {"token": token})
    assert again.status_code == 409 and "已过期" in again.content.decode()
    assert Person.objects.filter(name="张三").count() == 1


def test_it_shows_every_error_with_its_row_and_keeps_nothing(client, cast, var_dir):
    client.force_login(cast.committee_admin)
    data, bad = messy_file(cast)
    response = _upload(client, data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "没有写入任何数据" in html and "确认导入" not in html
    for row, column in bad:
        assert f"<td>第 {row} 行</td><td>{column}</td>" in html
    assert "roster_import" not in client.session
    assert staged(var_dir) == []


def test_it_reports_rows_outside_scope_on_the_preview(client, cast, var_dir):
    client.force_login(cast.org_admin)
    data = sheet([member("乙", date(1980, 1, 2), 2, 单位="市教育局", 所在党支部="B1", 处室="基础教育处")])
    response = _upload(client, data)
    assert response.status_code == 422
    assert "您无权向该党组织导入人员。" in response.content.decode()


def test_it_rejects_files_that_are_not_spreadsheets_and_foreign_default_orgs(client, cast, var_dir):
    client.force_login(cast.org_admin)
    response = _upload(client, b"just text", name="名册.csv")
    assert response.status_code == 422 and "只能导入 .xlsx 或 .xls" in response.content.decode()
    response = _upload(client, b"just text", name="名册.xlsx")
    assert response.status_code == 422 and "不是有效的 Excel 表格" in response.content.decode()
    response = client.post(UPLOAD, {})
    assert response.status_code == 422 and "请选择要导入的名册文件" in response.content.decode()
    response = _upload(client, sheet([member("张三", date(1985, 6, 1), 1)]), org=cast.branch_b1.pk)
    assert response.status_code == 422 and "不在您的管理范围内" in response.content.decode()


def test_it_uses_the_chosen_default_org_on_confirmation(client, cast, var_dir):
    client.force_login(cast.committee_admin)
    response = _upload(
        client, sheet([member("张三", date(1985, 6, 1), 1, 所在党支部="")]), org=cast.branch_a2.pk
    )
    assert response.status_code == 200
    client.post(CONFIRM, {"token": client.session["roster_import"]["token"]})
    assert Person.objects.get(name="张三").org == cast.branch_a2


def test_it_refuses_an_upload_older_than_an_hour_or_a_wrong_token(client, cast, var_dir):
    client.force_login(cast.org_admin)
    _upload(client, sheet([member("张三", date(1985, 6, 1), 1)]))
    token = client.session["roster_import"]["token"]
    assert client.post(CONFIRM, {"token": "not-the-token"}).status_code == 409
    assert staged(var_dir) == []  # a failed confirmation drops the pending upload

    _upload(client, sheet([member("张三", date(1985, 6, 1), 1)]))
    token = client.session["roster_import"]["token"]
    (stored,) = staged(var_dir)
    old = time.time() - importer.UPLOAD_MAX_AGE - 60
    os.utime(stored, (old, old))
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 409 and "请重新上传" in response.content.decode()
    assert not stored.exists()
    assert not Person.objects.filter(name="张三").exists()


def test_it_purges_uploads_older_than_an_hour(cast, var_dir):
    fresh = importer.store_upload(b"PK\x03\x04", ".xlsx", owner=cast.org_admin)
    stale = var_dir / "media" / importer.UPLOAD_PREFIX / "old.xlsx"
    stale.write_bytes(b"x")
    old = time.time() - 2 * importer.UPLOAD_MAX_AGE
    os.utime(stale, (old, old))
    assert importer.purge_stale_uploads() == 1
    assert importer.read_upload(fresh, ".xlsx", cast.org_admin) is not None and not stale.exists()
    assert importer.read_upload("../../etc/passwd", ".xlsx", cast.org_admin) is None
    assert importer.read_upload(fresh, ".exe", cast.org_admin) is None


def test_it_keeps_offices_valid_when_the_unit_changes(cast):
    liu = cast.person(cast.member)
    office = Office.objects.create(unit=cast.unit_b, name="督导处")
    data = sheet([{"姓名": liu.name, "身份证号": liu.id_number, "单位": "市教育局", "所在党支部": "B1"}])
    result = importer.roster_import(actor=None, source=data)
    assert result.errors == []
    liu.refresh_from_db()
    assert (liu.unit, liu.office, liu.org) == (cast.unit_b, None, cast.branch_b1)
    data = sheet([{"姓名": liu.name, "身份证号": liu.id_number, "处室": "督导处"}])
    assert importer.roster_import(actor=None, source=data).errors == []
    liu.refresh_from_db()
    assert liu.office == office
