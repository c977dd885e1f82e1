"""The notice services: audience → one receipt per org, org read / sign by post holders only, withdraw,
the day-before reminder exactly once, audit rows for every write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sizheng.core import scheduler
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, SentReminder
from sizheng.notices import services
from sizheng.notices.models import Notice, OrgReceipt
from sizheng.notices.tests.conftest import TODAY, draft, published

pytestmark = pytest.mark.django_db


def _receipt(notice, org) -> OrgReceipt:
    return OrgReceipt.objects.get(notice=notice, org=org)


def test_publishing_to_the_whole_tree_makes_one_receipt_per_org_and_notifies_post_holders(cast):
    notice = draft(cast)
    assert notice.is_draft and not OrgReceipt.objects.exists()
    assert AuditEvent.objects.filter(action="notices_create", object_id=str(notice.pk)).exists()
    count = services.notice_publish(actor=cast.committee_admin, notice=notice, version=notice.version)
    notice.refresh_from_db()
    expected = {cast.committee_a, cast.branch_a1, cast.branch_a2, cast.leading_a, cast.general_b, cast.branch_b1,
                cast.branch_c}  # fmt: skip
    assert count == 7 and notice.is_published and notice.version == 2 and notice.dated == TODAY
    assert set(OrgReceipt.objects.filter(notice=notice).values_list("org", flat=True)) == {
        o.pk for o in expected
    }
    assert not OrgReceipt.objects.filter(notice=notice, read_at__isnull=False).exists()
    notes = Notification.objects.filter(title=f"有新的通知：{notice.title}")
    assert {n.user for n in notes} == {cast.secretary_a, cast.org_admin, cast.secretary_b}
    assert all(n.url == f"/notices/{notice.pk}/" and "主题党日" not in n.body for n in notes)
    event = AuditEvent.objects.get(action="notices_publish", object_id=str(notice.pk))
    assert (
        event.detail["receipts"] == 7
        and event.detail["notified"] == 3
        and event.actor == cast.committee_admin
    )


def test_chosen_orgs_take_their_subtrees_and_must_lie_below_the_issuing_org(cast):
    notice = published(cast, audience=[cast.committee_a])
    assert set(notice.receipts.values_list("org", flat=True)) == {
        cast.committee_a.pk, cast.branch_a1.pk, cast.branch_a2.pk
    }  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        draft(cast, actor=cast.secretary_a, org=cast.branch_a1, audience=[cast.branch_b1])
    assert "受文组织必须是" in str(exc.value.message_dict["audience"])
    # A branch with nothing below it has no audience: publishing says what to do.
    own = draft(cast, actor=cast.secretary_a, org=cast.branch_a1)
    with pytest.raises(ValidationError, match="没有下级组织"):
        services.notice_publish(actor=cast.secretary_a, notice=own, version=own.version)


def test_only_those_who_manage_the_issuing_org_write_and_publish(cast):
    with pytest.raises(PermissionDenied):
        draft(cast, actor=cast.member, org=cast.branch_a1)
    with pytest.raises(PermissionDenied):
        draft(cast, actor=cast.secretary_a, org=cast.root)
    notice = draft(cast)
    with pytest.raises(PermissionDenied):
        services.notice_publish(actor=cast.secretary_b, notice=notice, version=notice.version)


def test_a_stale_version_is_a_conflict_and_a_published_notice_is_not_edited(cast):
    notice = draft(cast)
    services.notice_update(actor=cast.committee_admin, notice=notice, version=1, org=cast.root, title="新标题",
                           body="正文")  # fmt: skip
    with pytest.raises(Conflict):
        services.notice_update(actor=cast.committee_admin, notice=notice, version=1, org=cast.root, title="x",
                               body="y")  # fmt: skip
    services.notice_publish(actor=cast.committee_admin, notice=notice, version=notice.version)
    notice.refresh_from_db()
    with pytest.raises(Conflict):
        services.notice_update(actor=cast.committee_admin, notice=notice, version=notice.version, org=cast.root,
                               title="x", body="y")  # fmt: skip
    with pytest.raises(Conflict):
        services.notice_delete(actor=cast.committee_admin, notice=notice, version=notice.version)


def test_the_secretarys_first_read_marks_the_org_read_and_a_members_read_does_not(cast):
    notice = published(cast)
    assert services.mark_read(actor=cast.member, notice=notice) == 0
    assert _receipt(notice, cast.branch_a1).read_at is None
    assert services.mark_read(actor=cast.secretary_a, notice=notice) == 1
    a1 = _receipt(notice, cast.branch_a1)
    assert a1.read_at is not None and a1.read_by == cast.secretary_a and a1.status_label == "已阅"
    # Later reads (the same person, the org's 党务干部) change nothing and write nothing.
    assert services.mark_read(actor=cast.secretary_a, notice=notice) == 0
    assert services.mark_read(actor=cast.org_admin, notice=notice) == 0
    assert _receipt(notice, cast.branch_a1).read_by == cast.secretary_a
    assert AuditEvent.objects.filter(action="notices_receipt_read").count() == 1
    # Other orgs stay unread; the committee admin's reading marks nothing.
    services.mark_read(actor=cast.committee_admin, notice=notice)
    assert OrgReceipt.objects.filter(notice=notice, read_at__isnull=False).count() == 1


def test_signing_is_for_post_holders_once_and_only_when_asked(cast):
    notice = published(cast, requires_receipt=True, due_on=TODAY + timedelta(days=5))
    with pytest.raises(PermissionDenied):
        services.acknowledge(actor=cast.member, notice=notice)
    receipts = services.acknowledge(actor=cast.org_admin, notice=notice)
    assert [r.org for r in receipts] == [cast.branch_a1]
    a1 = receipts[0]
    assert a1.acknowledged_by == cast.org_admin and a1.read_by == cast.org_admin and a1.status == "acked"
    services.acknowledge(actor=cast.secretary_a, notice=notice)
    assert AuditEvent.objects.filter(action="notices_receipt_ack").count() == 1
    assert _receipt(notice, cast.branch_a1).acknowledged_by == cast.org_admin
    plain = published(cast, title="无需签收的通知")
    with pytest.raises(ValidationError, match="不需要签收"):
        services.acknowledge(actor=cast.secretary_a, notice=plain)


def test_withdrawing_needs_the_version_notifies_and_is_audited(cast):
    notice = published(cast, requires_receipt=True)
    services.mark_read(actor=cast.secretary_b, notice=notice)
    with pytest.raises(Conflict):
        services.notice_withdraw(actor=cast.committee_admin, notice=notice, version=1)
    services.notice_withdraw(
        actor=cast.committee_admin, notice=notice, version=notice.version, reason="内容调整"
    )
    notice.refresh_from_db()
    assert notice.is_withdrawn and notice.withdraw_reason == "内容调整"
    event = AuditEvent.objects.get(action="notices_withdraw", object_id=str(notice.pk))
    assert event.detail == {"receipts": 7, "read": 1, "reason_given": True}
    assert Notification.objects.filter(title=f"通知已撤回：{notice.title}").count() == 3
    with pytest.raises(Conflict):
        services.acknowledge(actor=cast.secretary_a, notice=notice)
    assert services.mark_read(actor=cast.secretary_a, notice=notice) == 0


def test_the_reminder_goes_to_unsigned_orgs_the_day_before_exactly_once(cast):
    assert "notices.receipt_reminders" in scheduler.JOBS
    due = TODAY + timedelta(days=1)
    notice = published(cast, requires_receipt=True, due_on=due)
    published(cast, title="后天截止", requires_receipt=True, due_on=due + timedelta(days=1))
    services.acknowledge(actor=cast.secretary_a, notice=notice)
    assert services.receipt_reminders() == 1  # B1 only: A1 signed, the other orgs have no post holders
    assert services.receipt_reminders() == 0
    assert services.receipt_reminders(TODAY) == 0
    reminders = Notification.objects.filter(title__startswith="【明日截止签收】")
    assert list(reminders.values_list("user", flat=True)) == [cast.secretary_b.pk]
    assert reminders.get().title == f"【明日截止签收】{notice.title}（{cast.branch_b1.name}）"
    assert SentReminder.objects.filter(key__startswith=f"notice:{notice.pk}:").count() == 1
    assert services.receipt_reminders(date(2026, 6, 13)) == 0  # two days before: nothing yet


def test_deleting_a_draft_detaches_its_files_and_is_audited(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sizheng.core.models import StoredFile
    from sizheng.notices.tests.conftest import PDF

    notice = draft(cast, attachments=[SimpleUploadedFile("方案.pdf", PDF)])
    stored = StoredFile.objects.get(owner_kind="notices.notice", owner_id=notice.pk)
    services.notice_delete(actor=cast.committee_admin, notice=notice, version=notice.version)
    assert not Notice.objects.filter(pk=notice.pk).exists()
    stored.refresh_from_db()
    assert stored.owner_id is None
    assert AuditEvent.objects.filter(action="notices_delete", object_id=str(notice.pk)).exists()
