"""The roster export: the importer's columns, masking, the confirmed sensitive export, audit, the round trip."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import CalamineWorkbook

from sizheng.core.crypto import mask
from sizheng.core.models import AuditEvent
from sizheng.core.xlsx import XLSX_CONTENT_TYPE
from sizheng.org import export, importer, roster
from sizheng.org.idcard import make_id_number
from sizheng.org.models import Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
EXPORT = reverse("org:people_export")
CONFIRMATION = {"confirm": "on"}


def read(data: bytes) -> tuple[list[str], list[list]]:
    """Header and data rows of an exported workbook, as the importer sees them."""
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        .get_sheet_by_index(0)
        .to_python(skip_empty_area=False)
    )
    header = roster.find_header(rows)
    assert header is not None
    return [str(c) for c in rows[header]], rows[header + 1 :]


def by_name(data: bytes) -> dict[str, dict]:
    header, rows = read(data)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


# --- the file -------------------------------------------------------------------------------------------


def test_it_writes_exactly_the_columns_the_importer_reads(cast):
    data = export.roster_export(actor=None, people_qs=Person.objects.all(), sensitive=False)
    header, rows = read(data)
    assert header == roster.EXPORT_HEADERS
    assert [roster.header_field(h) for h in header] == [f for f, _, _ in roster.COLUMNS]
    assert len(rows) == Person.objects.count()
    chen = by_name(data)["陈志强"]
    assert (chen["领导班子成员"], chen["职务/职级"], chen["所在党组织"], chen["处室"]) == (
        "是",
        "局长",
        "A2",
        "办公室",
    )
    assert chen["政治面貌"] == "中共党员" and chen["工作单位"] == "市财政局"
    zhou = by_name(data)["周杰"]
    assert (zhou["所在党组织"], zhou["政治面貌"], zhou["领导班子成员"]) == ("", "群众", "否")


def test_it_masks_identifiers_unless_sensitive(cast):
    liu = cast.person(cast.member)
    masked = by_name(export.roster_export(actor=None, people_qs=Person.objects.all(), sensitive=False))[
        "刘洋"
    ]
    assert masked["公民身份证号"] == mask(liu.id_number, "id_card") and masked["联系电话"] == mask(
        liu.phone, "phone"
    )
    full = by_name(export.roster_export(actor=None, people_qs=Person.objects.all(), sensitive=True))["刘洋"]
    assert (full["公民身份证号"], full["联系电话"]) == (liu.id_number, liu.phone)


def test_it_reveals_only_the_people_whose_identifiers_the_actor_may_see(cast):
    data = export.roster_export(actor=cast.org_admin, people_qs=Person.objects.all(), sensitive=True)
    rows = by_name(data)
    for person in Person.objects.select_related("org"):
        shown = rows[person.name]["公民身份证号"]
        in_a1 = person.org_id == cast.branch_a1.pk
        assert (shown == person.id_number) is in_a1, person.name
        assert "*" in shown or in_a1
    event = AuditEvent.objects.get(action="roster_export_sensitive")
    assert event.detail["count"] == 7 and event.detail["revealed"] == 3


def test_it_writes_month_only_birth_dates_as_months_and_reads_them_back(cast):
    person = make_person("吴明", cast.unit_a, org=cast.branch_a1, birth_date=date(1980, 6, 1), birth_month_only=True,
                         id_number=make_id_number("110102", date(1980, 6, 15), 77))  # fmt: skip
    data = export.roster_export(actor=None, people_qs=Person.objects.filter(pk=person.pk), sensitive=True)
    assert by_name(data)["吴明"]["出生日期"] == "1980.06"
    result = importer.roster_import(actor=None, source=data)
    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 1, [])


def test_it_audits_masked_and_sensitive_exports_with_counts_and_filter_only(cast):
    export.roster_export(
        actor=cast.committee_admin, people_qs=Person.objects.all(), sensitive=False, filters={"q": "刘"}
    )
    event = AuditEvent.objects.get(action="roster_export")
    assert event.actor == cast.committee_admin
    assert event.detail == {"count": 7, "filter": {"q": "刘"}}
    export.roster_export(actor=cast.org_admin, people_qs=Person.objects.all(), sensitive=True)
    text = json.dumps(list(AuditEvent.objects.values("detail", "object_repr")), ensure_ascii=False)
    for person in Person.objects.all():
        assert person.id_number not in text and person.phone not in text


# --- the acceptance point: a sensitive export re-imported changes nothing ---------------------------------


def test_a_sensitive_export_reimported_changes_nothing(cast):
    before = sorted(Person.objects.values_list("pk", "version"))
    data = export.roster_export(actor=None, people_qs=Person.objects.all(), sensitive=True)
    result = importer.roster_import(actor=None, source=data)
    assert (result.created, result.updated, result.errors) == (0, 0, [])
    assert result.unchanged == Person.objects.count() == 7
    assert sorted(Person.objects.values_list("pk", "version")) == before


def test_an_org_admins_sensitive_export_reimported_by_them_changes_nothing(client, cast):
    client.force_login(cast.org_admin)
    response = client.post(f"{EXPORT}?sensitive=1", CONFIRMATION)
    assert response.status_code == 200
    result = importer.roster_import(actor=cast.org_admin, source=response.content)
    assert (result.created, result.updated, result.errors) == (0, 0, [])
    assert result.unchanged == 3


def test_a_masked_export_cannot_be_imported_by_mistake(cast):
    data = export.roster_export(actor=None, people_qs=Person.objects.all(), sensitive=False)
    result = importer.roster_import(actor=None, source=data, dry_run=True)
    assert len(result.errors) == 7
    assert all(e["column"] == "公民身份证号" and "脱敏" in e["message"] for e in result.errors)


# --- the view ------------------------------------------------------------------------------------------


def test_it_downloads_a_masked_export_of_the_filtered_list(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(EXPORT, {"q": "刘洋"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    rows = by_name(response.content)
    assert list(rows) == ["刘洋"]
    assert "*" in rows["刘洋"]["公民身份证号"]
    event = AuditEvent.objects.get(action="roster_export")
    assert event.detail == {"count": 1, "filter": {"q": "刘洋"}} and event.actor == cast.committee_admin


def test_it_exports_only_the_users_scope(client, cast):
    client.force_login(cast.secretary_a)
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert set(by_name(response.content)) == {"王建国", "赵敏", "刘洋"}


def test_it_hides_the_export_from_people_without_a_people_list(client, cast):
    for user in (cast.member, cast.outsider, cast.leader, cast.counselor, cast.auditor):
        client.force_login(user)
        assert client.get(EXPORT).status_code == 404, user
        assert client.post(f"{EXPORT}?sensitive=1", CONFIRMATION).status_code == 404, user
    assert not AuditEvent.objects.filter(action__startswith="roster_export").exists()


def test_it_answers_405_to_other_methods(client, cast):
    client.force_login(cast.org_admin)
    assert client.put(EXPORT).status_code == 405
    assert client.delete(EXPORT).status_code == 405


def test_it_forbids_the_sensitive_export_to_anyone_but_org_admins(client, cast):
    for user in (cast.committee_admin, cast.secretary_a):
        client.force_login(user)
        assert client.get(EXPORT, {"sensitive": "1"}).status_code == 403, user
        assert client.post(f"{EXPORT}?sensitive=1", CONFIRMATION).status_code == 403, user
    assert not AuditEvent.objects.filter(action="roster_export_sensitive").exists()


def test_it_asks_an_org_admin_to_confirm_a_sensitive_export(client, cast):
    client.force_login(cast.org_admin)
    page = client.get(EXPORT, {"sensitive": "1", "q": "刘"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "我确认导出含完整身份证号和电话的名册，并对数据安全负责" in html
    query = html.split(f'action="{EXPORT}?')[1].split('"')[0]
    assert set(query.split("&amp;")) == {"sensitive=1", "q=%E5%88%98"}  # the filter goes along with the POST
    refused = client.post(f"{EXPORT}?sensitive=1&q=刘")
    assert refused.status_code == 422 and "请勾选确认" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="roster_export_sensitive").exists()

    response = client.post(f"{EXPORT}?sensitive=1&q=刘", CONFIRMATION)
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    liu = cast.person(cast.member)
    assert by_name(response.content)["刘洋"]["公民身份证号"] == liu.id_number
    event = AuditEvent.objects.get(action="roster_export_sensitive")
    assert event.actor == cast.org_admin
    assert event.detail == {"count": 1, "filter": {"q": "刘"}, "revealed": 1}


def test_its_queries_do_not_grow_with_the_number_of_people(client, cast):
    client.force_login(cast.org_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.post(f"{EXPORT}?sensitive=1", CONFIRMATION).status_code == 200
        return len(queries)

    count()  # the first request also writes the session
    few = count()
    for i in range(15):
        make_person(f"新人{i}", cast.unit_a, org=cast.branch_a1, office=cast.office_a1)
    assert count() == few
