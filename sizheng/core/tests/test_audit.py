"""The audit trail is append-only and readable by the auditor alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.core import audit
from sizheng.core.models import AuditEvent, Role
from sizheng.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_it_records_actor_object_and_detail():
    user = make_user("alice")
    event = audit.record(user, "thing_update", user, {"fields": ["title"]})
    assert event.actor == user and event.actor_name == "alice"
    assert event.object_type == "core.user" and event.object_id == str(user.pk)
    assert event.detail == {"fields": ["title"]}


def test_it_records_an_anonymous_event_with_no_actor_and_no_object():
    event = audit.record_anonymous("survey_wave_closed", {"answers": 17})
    assert event.actor is None and event.object_type == "" and event.actor_name == ""


def test_it_refuses_to_edit_or_delete_audit_rows():
    event = audit.record(None, "x")
    event.action = "y"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="z")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


def test_it_records_sensitive_reads_by_field_name_only():
    user = make_user("bob")
    event = audit.record_read(user, ("talks.talk", 5), ["summary", "content"])
    assert event.action == "read_sensitive" and event.detail == {"fields": ["summary", "content"]}


def test_it_shows_the_log_to_the_auditor_with_filters(client):
    auditor = make_user("aud", Role.AUDITOR)
    other = make_user("zed")
    audit.record(other, "meeting_create", ("life.meeting", 1))
    audit.record(other, "duty_pass", ("duties.duty", 2))
    client.force_login(auditor)
    page = client.get(reverse("core:audit_log"), {"action": "duty"})
    body = page.content.decode()
    assert page.status_code == 200 and "duty_pass" in body and "meeting_create" not in body
    bad = client.get(reverse("core:audit_log"), {"since": "2026-05-01", "until": "2026-01-01"})
    assert bad.status_code == 422 and "起始日期不能晚于截止日期" in bad.content.decode()


def test_it_exports_the_log_and_audits_the_export(client):
    auditor = make_user("aud", Role.AUDITOR)
    audit.record(auditor, "=cmd|' /C calc'!A0", None)
    client.force_login(auditor)
    response = client.get(reverse("core:audit_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(actor=auditor, action="audit_export").exists()


@pytest.mark.parametrize("role", [Role.SYSADMIN, Role.SECADMIN, Role.COMMITTEE_ADMIN, Role.MEMBER])
def test_it_hides_the_log_from_everyone_but_the_auditor(client, role):
    client.force_login(make_user("u", role))
    assert client.get(reverse("core:audit_log")).status_code == 404
    assert client.get(reverse("core:audit_export")).status_code == 404


def test_it_keeps_the_audit_page_query_count_flat(client, django_assert_max_num_queries):
    auditor = make_user("aud", Role.AUDITOR)
    client.force_login(auditor)
    for i in range(3):
        audit.record(auditor, f"a{i}", None)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("core:audit_log"))
    for i in range(60):
        audit.record(auditor, f"b{i}", None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("core:audit_log"))
