"""Attachments: using a material on a study session, plan or 党课; showing it there (attachments_for and
the template tag); scope (404), read-only (403), wrong method (405), bad input (422); query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.library import services, targets
from sizheng.library.embed import attachments_for
from sizheng.library.models import Attachment, TargetKind
from sizheng.library.tests.helpers import article, audited, document
from sizheng.life.models import MeetingKind
from sizheng.study import services as study
from sizheng.study.tests.helpers import lecture

pytestmark = pytest.mark.django_db


def _session(cast, kind=MeetingKind.THEME_DAY, org=None):
    meeting = lecture(cast, date(2026, 11, 10), kind=kind, org=org)
    return study.session_link(actor=cast.secretary_a, meeting=meeting)


def test_it_attaches_to_a_study_session_and_shows_it_via_attachments_for(client, cast):
    session = _session(cast)
    material = document(cast, title="党史读本")
    client.force_login(cast.secretary_a)
    detail = client.get(reverse("library:material_detail", args=[material.pk]))
    assert f"study_session:{session.pk}" in detail.content.decode()  # offered in the attach form
    response = client.post(
        reverse("library:material_attach", args=[material.pk]), {"target": f"study_session:{session.pk}"}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.target_kind, attachment.target_id, attachment.org) == (
        "study_session",
        session.pk,
        cast.branch_a1,
    )
    assert audited("library_attach", material)
    ctx = attachments_for("study_session", session.pk, cast.member)
    assert [i["material"].title for i in ctx["items"]] == ["党史读本"]
    assert ctx["items"][0]["download_url"] == reverse("library:material_download", args=[material.pk])
    assert ctx["can_manage"] is False
    assert attachments_for("study_session", session.pk, cast.secretary_a)["can_manage"] is True
    assert attachments_for("study_session", session.pk, cast.outsider)["items"] == []
    # The material page lists where it is used.
    page = client.get(reverse("library:material_detail", args=[material.pk])).content.decode()
    assert "用于学习" in page and "学习党的创新理论" in page


def test_it_renders_the_template_tag_for_other_apps_pages(cast):
    session = _session(cast)
    services.attachment_add(actor=cast.secretary_a, material=article(cast, title="学习体会"),
                            target=targets.get("study_session", session.pk, cast.secretary_a))  # fmt: skip
    request = RequestFactory().get("/study/sessions/1/")
    request.user = cast.secretary_a
    html = Template('{% load library_tags %}{% library_attachments "study_session" sid %}').render(
        Context({"request": request, "sid": session.pk})
    )
    assert "学习体会" in html and "从资料库添加" in html and "移除" in html
    request.user = cast.member
    html = Template('{% load library_tags %}{% library_attachments "study_session" sid %}').render(
        Context({"request": request, "sid": session.pk})
    )
    assert "学习体会" in html and "从资料库添加" not in html


def test_it_adds_from_the_target_side_and_removes(client, cast):
    plan = study.plan_create(actor=cast.secretary_a, org=cast.branch_a1, year=2026, title="2026年学习计划")
    material = document(cast, actor=cast.committee_admin, org=cast.root, title="宪法学习要点")
    client.force_login(cast.org_admin)
    url = reverse("library:attach_pick", args=["study_plan", plan.pk])
    page = client.get(url)
    assert page.status_code == 200 and "宪法学习要点" in page.content.decode()
    next_url = reverse("study:plan_detail", args=[plan.pk])
    response = client.post(f"{url}?next={next_url}", {"material": material.pk, "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    attachment = Attachment.objects.get(target_kind="study_plan", target_id=plan.pk)
    again = client.post(url, {"material": material.pk})
    assert again.status_code == 422 and "已经添加到这个学习计划" in again.content.decode()
    client.force_login(cast.member)
    remove = reverse("library:attachment_remove", args=[attachment.pk])
    assert client.post(remove).status_code == 403
    assert client.get(remove).status_code == 405
    client.force_login(cast.outsider)
    assert client.post(remove).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.post(remove, {"next": "https://evil.example/"}).status_code == 302
    assert not Attachment.objects.exists() and audited("library_detach", material)


def test_it_attaches_to_a_party_lecture(client, cast):
    meeting = lecture(cast, date(2026, 11, 12), kind=MeetingKind.PARTY_LECTURE)
    material = article(cast)
    client.force_login(cast.secretary_a)
    response = client.post(
        reverse("library:material_attach", args=[material.pk]), {"target": f"party_lecture:{meeting.pk}"}
    )
    assert response.status_code == 302
    assert Attachment.objects.filter(target_kind=TargetKind.PARTY_LECTURE, target_id=meeting.pk).exists()
    # A meeting of another kind is not a 党课.
    other = lecture(cast, date(2026, 11, 13), kind=MeetingKind.THEME_DAY)
    client.post(
        reverse("library:material_attach", args=[material.pk]), {"target": f"party_lecture:{other.pk}"}
    )
    assert not Attachment.objects.filter(target_id=other.pk).exists()


def test_it_answers_404_403_405_and_422_for_attaching(client, cast):
    session = _session(cast)
    material = article(cast)
    url = reverse("library:material_attach", args=[material.pk])
    target = {"target": f"study_session:{session.pk}"}
    client.force_login(cast.outsider)  # neither the material nor the session is visible
    assert client.post(url, target).status_code == 404
    assert client.get(reverse("library:attach_pick", args=["study_session", session.pk])).status_code == 404
    client.force_login(cast.member)  # sees both, manages neither
    assert client.post(url, target).status_code == 403
    assert client.get(reverse("library:attach_pick", args=["study_session", session.pk])).status_code == 403
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    assert client.post(url, {"target": "nonsense"}).status_code == 422
    assert client.post(url, {"target": "study_session:999999"}).status_code == 404
    assert client.get(reverse("library:attach_pick", args=["meeting", session.pk])).status_code == 404
    assert not Attachment.objects.exists()


def test_it_refuses_a_material_whose_audience_excludes_the_target(client, cast):
    b_session = _session(cast, org=cast.branch_a2)
    narrow = article(cast, title="只给第一支部")  # audience: branch A1
    draft = article(cast, title="草稿", publish=False)
    client.force_login(cast.committee_admin)
    url = reverse("library:material_attach", args=[narrow.pk])
    response = client.post(url, {"target": f"study_session:{b_session.pk}"})
    assert response.status_code == 422 and "阅览范围" in response.content.decode()
    response = client.post(reverse("library:material_attach", args=[draft.pk]),
                           {"target": f"study_session:{b_session.pk}"})  # fmt: skip
    assert response.status_code == 422 and "只有已发布的资料" in response.content.decode()
    assert not Attachment.objects.exists()


def test_it_keeps_attachments_for_and_the_pick_page_flat(client, cast):
    session = _session(cast)
    first = article(cast, title="第1篇")
    services.attachment_add(actor=cast.secretary_a, material=first,
                            target=targets.get("study_session", session.pk, cast.secretary_a))  # fmt: skip
    user = cast.member
    attachments_for("study_session", session.pk, user)
    with CaptureQueriesContext(connection) as one:
        attachments_for("study_session", session.pk, user)
    target = targets.get("study_session", session.pk, cast.secretary_a)
    for i in range(2, 12):
        services.attachment_add(actor=cast.secretary_a, material=article(cast, title=f"第{i}篇", topics=("党史", "法治")),
                                target=target)  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        ctx = attachments_for("study_session", session.pk, user)
    assert len(ctx["items"]) == 11
    assert len(many.captured_queries) == len(one.captured_queries)
    client.force_login(cast.secretary_a)
    pick = reverse("library:attach_pick", args=["study_session", session.pk])
    client.get(pick)
    with CaptureQueriesContext(connection) as page_q:
        assert client.get(pick).status_code == 200
    for i in range(12, 20):
        article(cast, title=f"第{i}篇")
    with CaptureQueriesContext(connection) as page_many:
        assert client.get(pick).status_code == 200
    assert len(page_many.captured_queries) == len(page_q.captured_queries)
