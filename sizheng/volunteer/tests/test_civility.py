"""Civility applications through the screens: start, fill in, submit, review (approve with a validity,
return with an opinion), delete a draft, attach evidence — response, database and audit row each;
404 outside scope, 403 read-only, 405 wrong method, 409 stale or wrong state, 422 bad input."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sizheng.core.apitools import Conflict
from sizheng.core.models import Notification
from sizheng.volunteer import services
from sizheng.volunteer.models import Application, ApplicationState, Campaign, CivilityKind, Criterion
from sizheng.volunteer.tests.helpers import NOW, application, audited, fill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_now")]


@pytest.fixture
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _url(name: str, *args) -> str:
    return reverse(f"volunteer:{name}", args=args)


def test_it_starts_an_application_with_the_kinds_checklist(client, cast):
    client.force_login(cast.org_admin)
    url = _url("application_create")
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "unit", "year": 2026, "unit": cast.unit_a.pk})
    app = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("application_detail", app.pk)
    criteria = list(Criterion.objects.filter(kind="unit", is_active=True).values_list("title", flat=True))
    assert [i.title for i in app.items.order_by("order")] == criteria and criteria
    assert app.state == ApplicationState.DRAFT and app.created_by == cast.org_admin
    assert audited("civility_application_create", app)
    again = client.post(url, {"kind": "unit", "year": 2026, "unit": cast.unit_a.pk})
    assert again.status_code == 422 and "尚未审核完成的申报" in again.content.decode()
    missing = client.post(url, {"kind": "office", "year": 2026})
    assert missing.status_code == 422 and "请选择申报的处室" in missing.content.decode()
    # Unit B is not among the units the 党务干部's orgs cover: not a choice.
    assert client.post(url, {"kind": "unit", "year": 2026, "unit": cast.unit_b.pk}).status_code == 422
    assert Application.objects.count() == 1


def test_it_hides_applications_outside_scope_and_forbids_changes_to_viewers(client, cast):
    app = application(cast)
    family = application(cast, kind=CivilityKind.FAMILY, person=cast.person(cast.member))
    for user in (cast.outsider, cast.secretary_b, cast.leader):
        client.force_login(user)
        assert client.get(_url("application_detail", app.pk)).status_code == 404
        assert client.post(_url("application_submit", app.pk), {"version": 1}).status_code == 404
    client.force_login(cast.member)  # the family's representative sees their own, read-only
    assert client.get(_url("application_detail", app.pk)).status_code == 404
    assert client.get(_url("application_detail", family.pk)).status_code == 200
    assert client.get(_url("application_edit", family.pk)).status_code == 403
    assert client.post(_url("application_submit", family.pk), {"version": 1}).status_code == 403
    assert client.get(_url("application_create")).status_code == 403


def test_it_fills_in_submits_and_refuses_edits_once_submitted(client, cast):
    app = application(cast)
    client.force_login(cast.org_admin)
    empty = client.post(_url("application_submit", app.pk), {"version": app.version})
    assert empty.status_code == 422 and "没有填写落实情况" in empty.content.decode()
    edit = client.get(_url("application_edit", app.pk))
    assert edit.status_code == 200 and "思想政治建设" in edit.content.decode()
    items = list(app.items.order_by("order"))
    data = {
        "version": app.version,
        "summary": "本单位创建情况",
        **{f"note_{i.pk}": "已落实。" for i in items},
    }
    assert client.post(_url("application_edit", app.pk), data).status_code == 302
    app.refresh_from_db()
    assert app.summary == "本单位创建情况" and all(i.note == "已落实。" for i in app.items.all())
    assert audited("civility_application_update", app)
    stale = client.post(_url("application_edit", app.pk), data)
    assert stale.status_code == 409
    assert client.post(_url("application_submit", app.pk), {"version": app.version}).status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.SUBMITTED and app.submitted_at is not None
    assert audited("civility_application_submit", app)
    locked = client.get(_url("application_edit", app.pk))
    assert locked.status_code == 409 and "不能再修改" in locked.content.decode()


def test_it_returns_with_an_opinion_then_approves_with_a_validity(
    client, cast, django_capture_on_commit_callbacks
):
    app = fill(application(cast), cast.org_admin)
    services.application_transition(
        actor=cast.org_admin, application=app, action="submit", version=app.version
    )
    url = _url("application_review", app.pk)
    client.force_login(cast.org_admin)  # prepares, may not review
    assert (
        client.post(url, {"decision": "approve", "version": app.version, "valid_years": 3}).status_code == 403
    )
    client.force_login(cast.committee_admin)
    bare = client.post(url, {"decision": "return", "version": app.version})
    assert bare.status_code == 422 and "退回时请填写审核意见" in bare.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        returned = client.post(
            url, {"decision": "return", "version": app.version, "opinion": "请补充志愿服务佐证。"}
        )
    assert returned.status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.RETURNED and app.opinion == "请补充志愿服务佐证。"
    assert audited("civility_application_return", app)
    assert Notification.objects.filter(user=cast.org_admin, title__contains="被退回").exists()
    page = client.get(_url("application_detail", app.pk)).content.decode()
    assert "请补充志愿服务佐证。" in page
    stale = client.post(url, {"decision": "approve", "version": app.version, "valid_years": 3})
    assert stale.status_code == 409  # returned, not under review
    services.application_transition(
        actor=cast.org_admin, application=app, action="submit", version=app.version
    )
    old = app.version - 1
    conflict = client.post(url, {"decision": "approve", "version": old, "valid_years": 3})
    assert conflict.status_code == 409
    app.refresh_from_db()
    assert app.state == ApplicationState.SUBMITTED
    approved = client.post(url, {"decision": "approve", "version": app.version, "valid_years": 3})
    assert approved.status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    assert (app.valid_from, app.valid_until) == (date(2026, 3, 10), date(2029, 3, 9))
    assert app.reviewed_by == cast.committee_admin and audited("civility_application_approve", app)
    bad = application(cast, kind=CivilityKind.OFFICE, office=cast.office_a1)
    fill(bad, cast.org_admin)
    bad.refresh_from_db()
    services.application_transition(
        actor=cast.org_admin, application=bad, action="submit", version=bad.version
    )
    too_long = client.post(_url("application_review", bad.pk),
                           {"decision": "approve", "version": bad.version, "valid_years": 9})  # fmt: skip
    assert too_long.status_code == 422


def test_it_deletes_only_a_draft_after_confirmation(client, cast):
    app = application(cast)
    client.force_login(cast.org_admin)
    url = _url("application_delete", app.pk)
    unconfirmed = client.post(url, {"version": app.version})
    assert unconfirmed.status_code == 422 and Application.objects.filter(pk=app.pk).exists()
    assert client.post(url, {"version": app.version, "confirm": "on"}).status_code == 302
    assert not Application.objects.filter(pk=app.pk).exists()
    assert audited("civility_application_delete", app)
    filed = fill(application(cast), cast.org_admin)
    services.application_transition(
        actor=cast.org_admin, application=filed, action="submit", version=filed.version
    )
    kept = client.post(_url("application_delete", filed.pk), {"version": filed.version, "confirm": "on"})
    assert kept.status_code == 409 and Application.objects.filter(pk=filed.pk).exists()


def test_it_answers_405_to_the_wrong_method(client, cast):
    app = application(cast)
    client.force_login(cast.committee_admin)
    for name in ("application_submit", "application_review", "application_delete"):
        assert client.get(_url(name, app.pk)).status_code == 405
    assert client.get(_url("item_attach", app.items.first().pk)).status_code == 405


def test_it_attaches_optional_evidence_readable_within_scope(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    app = application(cast)
    item = app.items.order_by("order").first()
    client.force_login(cast.org_admin)
    upload = SimpleUploadedFile("学习记录.txt", "中心组学习记录".encode(), content_type="text/plain")
    assert client.post(_url("item_attach", item.pk), {"upload": upload}).status_code == 302
    item.refresh_from_db()
    assert item.file is not None and audited("civility_item_attach", item)
    client.force_login(cast.committee_admin)
    assert client.get(reverse("core:file", args=[item.file.uid])).status_code == 200
    client.force_login(cast.outsider)
    assert client.get(reverse("core:file", args=[item.file.uid])).status_code == 404
    assert client.post(_url("item_attach", item.pk), {"upload": upload}).status_code == 404


def test_it_keeps_a_started_checklist_when_criteria_change(cast):
    app = application(cast)
    criterion = Criterion.objects.filter(kind="unit").order_by("order").first()
    services.criterion_update(actor=cast.committee_admin, criterion=criterion, version=criterion.version,
                              title="新的标准表述")  # fmt: skip
    assert app.items.order_by("order").first().title != "新的标准表述"
    with pytest.raises(Conflict):
        services.criterion_update(actor=cast.committee_admin, criterion=criterion, version=1, title="又改了")


def test_it_lets_only_the_committee_admin_edit_criteria_and_campaigns(client, cast):
    client.force_login(cast.secretary_a)
    assert client.get(_url("criteria")).status_code == 200
    assert client.post(_url("criteria"), {"kind": "unit", "title": "新增标准"}).status_code == 403
    assert client.post(_url("campaigns"), {"name": "新的志愿行动"}).status_code == 403
    criterion = Criterion.objects.first()
    assert client.get(_url("criterion_edit", criterion.pk)).status_code == 403
    client.force_login(cast.committee_admin)
    assert client.post(_url("criteria"), {"kind": "family", "title": "热心公益"}).status_code == 302
    added = Criterion.objects.get(title="热心公益")
    assert audited("civility_criterion_create", added)
    assert client.post(_url("criteria"), {"kind": "family", "title": ""}).status_code == 422
    data = {"title": "热心公益事业", "requirement": "", "order": 9, "version": added.version}
    assert client.post(_url("criterion_edit", added.pk), data).status_code == 302
    stale = client.post(_url("criterion_edit", added.pk), {**data, "title": "又一次修改"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    added.refresh_from_db()
    assert added.title == "热心公益事业" and audited("civility_criterion_update", added)
    assert client.post(_url("campaigns"), {"name": "新的志愿行动"}).status_code == 302
    assert client.post(_url("campaigns"), {"name": "新的志愿行动"}).status_code == 422
    added = Campaign.objects.get(name="新的志愿行动")
    assert audited("volunteer_campaign_create", added)
    edit = _url("campaign_edit", added.pk)
    assert client.get(edit).status_code == 200
    retire = {
        "name": "新的志愿行动",
        "description": "",
        "order": 11,
        "version": added.version,
    }  # is_active unticked
    assert client.post(edit, retire).status_code == 302
    added.refresh_from_db()
    assert not added.is_active and audited("volunteer_campaign_update", added)
    client.force_login(cast.secretary_a)
    assert client.get(edit).status_code == 403
    assert "新的志愿行动" not in client.get(_url("activity_create")).content.decode()  # retired: not offered
