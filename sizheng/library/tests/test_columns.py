"""The in-house column (思政品牌): opening it, articles draft → published → withdrawn with audit rows and
409 on a stale version, authors named by the committee admin, access, and the list's query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.library import services
from sizheng.library.models import Column, Material, MaterialState
from sizheng.library.tests.helpers import article, audited, topic

pytestmark = pytest.mark.django_db


def _column(cast, org=None, name="机关e课堂") -> Column:
    return services.column_create(
        actor=cast.secretary_a, org=org or cast.branch_a1, name=name, description="简介"
    )


def test_it_opens_a_column_for_a_managed_org(client, cast):
    client.force_login(cast.secretary_a)
    assert client.get(reverse("library:column_create")).status_code == 200
    data = {"org": cast.branch_a1.pk, "name": "机关e课堂", "description": "每期一个主题。"}
    response = client.post(reverse("library:column_create"), data)
    column = Column.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "library:column_detail", args=[column.pk]
    )
    assert audited("library_column_create", column)
    again = client.post(reverse("library:column_create"), data)
    assert again.status_code == 422 and "已有名为“机关e课堂”的专栏" in again.content.decode()
    client.force_login(cast.member)
    assert client.get(reverse("library:column_create")).status_code == 403


def test_it_runs_the_article_workflow_with_audit_rows_and_a_stale_409(client, cast):
    column = _column(cast)
    client.force_login(cast.org_admin)
    write = reverse("library:column_write", args=[column.pk])
    assert client.get(write).status_code == 200
    data = {
        "title": "从“赶考”精神看机关作风",
        "topics": [topic("理论学习").pk],
        "summary": "第一期。",
        "published_on": "2026-11-18",
        "audience_org": cast.branch_a1.pk,
        "body": "# 一、为什么学\n\n正文。",
        "intent": "draft",
    }
    response = client.post(write, data)
    item = Material.objects.get()
    assert response.status_code == 302 and item.column == column and item.state == MaterialState.DRAFT
    assert item.org == cast.branch_a1 and item.is_article
    # A colleague does not see the draft; the column shows it to its authors.
    client.force_login(cast.member)
    assert client.get(reverse("library:material_detail", args=[item.pk])).status_code == 404
    client.force_login(cast.org_admin)
    assert item.title in client.get(reverse("library:column_detail", args=[column.pk])).content.decode()
    transition = reverse("library:material_transition", args=[item.pk])
    assert client.post(transition, {"action": "publish", "version": item.version}).status_code == 302
    item.refresh_from_db()
    assert item.state == MaterialState.PUBLISHED and item.version == 2
    client.force_login(cast.member)
    page = client.get(reverse("library:column_detail", args=[column.pk])).content.decode()
    assert item.title in page
    # Edits carry the version: a stale one is refused with 409 and nothing changes.
    client.force_login(cast.secretary_a)
    edit = reverse("library:material_edit", args=[item.pk])
    fresh = {**data, "title": "修改后的标题", "version": item.version}
    fresh.pop("intent")
    assert client.post(edit, fresh).status_code == 302
    stale = client.post(edit, {**fresh, "title": "又一次修改"})
    assert stale.status_code == 409
    item.refresh_from_db()
    assert item.title == "修改后的标题"
    # Withdrawal needs the ticked confirmation.
    assert client.post(transition, {"action": "withdraw", "version": item.version}).status_code == 422
    assert (
        client.post(transition, {"action": "withdraw", "version": item.version, "confirm": "on"}).status_code
        == 302
    )
    item.refresh_from_db()
    assert item.state == MaterialState.WITHDRAWN
    actions = list(
        AuditEvent.objects.filter(object_id=str(item.pk), action__startswith="library_material")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "library_material_create",
        "library_material_publish",
        "library_material_update",
        "library_material_withdraw",
    ]
    # Withdrawn: editing answers 409 until it is back to draft.
    assert client.get(edit).status_code == 409


def test_it_lets_the_committee_admin_name_managers_as_authors(client, cast):
    column = _column(cast, org=cast.committee_a, name="清风讲堂")
    client.force_login(cast.secretary_b)  # outside committee A: cannot even see the column
    assert client.get(reverse("library:column_detail", args=[column.pk])).status_code == 404
    client.force_login(cast.secretary_a)  # sees it (member of its subtree), cannot write for it
    assert client.get(reverse("library:column_write", args=[column.pk])).status_code == 403
    add = reverse("library:column_editor_add", args=[column.pk])
    assert client.post(add, {"user": cast.secretary_a.pk}).status_code == 403
    client.force_login(cast.committee_admin)
    response = client.post(add, {"user": cast.member.pk})  # not a manager anywhere
    assert response.status_code == 422
    assert client.post(add, {"user": cast.secretary_a.pk}).status_code == 302
    assert audited("library_column_editor_add", column)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("library:column_write", args=[column.pk])).status_code == 200
    item = article(cast, actor=cast.secretary_a, org=cast.committee_a, column=column, publish=False)
    transition = reverse("library:material_transition", args=[item.pk])
    assert client.post(transition, {"action": "publish", "version": item.version}).status_code == 302
    client.force_login(cast.committee_admin)
    remove = reverse("library:column_editor_remove", args=[column.pk, cast.secretary_a.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302 and not column.editors.exists()
    client.force_login(cast.secretary_a)
    assert client.get(reverse("library:column_write", args=[column.pk])).status_code == 403


def test_it_edits_the_column_settings_with_a_version(client, cast):
    column = _column(cast)
    client.force_login(cast.secretary_a)
    url = reverse("library:column_edit", args=[column.pk])
    data = {"name": "机关e课堂", "description": "新的简介", "version": column.version}
    assert client.post(url, data).status_code == 302  # is_active unticked: paused
    column.refresh_from_db()
    assert (
        column.description == "新的简介" and not column.is_active and audited("library_column_update", column)
    )
    assert client.post(url, data).status_code == 409
    response = client.get(reverse("library:column_write", args=[column.pk]))
    assert response.status_code == 409 and "该专栏已停用" in response.content.decode()
    client.force_login(cast.member)
    assert client.post(url, {**data, "version": column.version}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {**data, "version": column.version}).status_code == 404


def test_it_keeps_the_column_pages_flat_as_rows_grow(client, cast):
    column = _column(cast)
    client.force_login(cast.member)
    article(cast, column=column, title="第1期")
    urls = [reverse("library:columns"), reverse("library:column_detail", args=[column.pk])]
    for url in urls:
        client.get(url)
    with CaptureQueriesContext(connection) as one:
        for url in urls:
            assert client.get(url).status_code == 200
    for i in range(2, 10):
        article(cast, column=column, title=f"第{i}期", topics=("党史", "法治"))
        _column(cast, name=f"专栏{i}")
    with CaptureQueriesContext(connection) as many:
        for url in urls:
            assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
