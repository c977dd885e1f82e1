"""The notices screens: write → publish → read / sign → status → withdraw, who sees what (404 / 403),
audit rows, 405 / 422, the home card and flat query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent, StoredFile
from sizheng.notices import services
from sizheng.notices.models import Notice, OrgReceipt
from sizheng.notices.nav import home_card
from sizheng.notices.tests.conftest import PDF, TODAY, draft, published

pytestmark = pytest.mark.django_db


def _url(name, notice) -> str:
    return reverse(f"notices:{name}", args=[notice.pk])


def _a1(notice) -> OrgReceipt:
    return OrgReceipt.objects.get(notice=notice, org__code="A1")


def test_the_committee_admin_writes_publishes_and_the_branches_read(client, cast):
    client.force_login(cast.committee_admin)
    data = {"org": cast.root.pk, "title": "关于开展七一主题党日活动的通知", "body": "各党组织：\n请按要求开展。",
            "requires_receipt": "on", "due_on": "2026-06-20",
            "attachments": [SimpleUploadedFile("活动方案.pdf", PDF, content_type="application/pdf")]}  # fmt: skip
    response = client.post(reverse("notices:create"), data)
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("detail", notice)
    assert notice.is_draft and notice.requires_receipt and str(notice.due_on) == "2026-06-20"
    stored = StoredFile.objects.get(owner_kind="notices.notice", owner_id=notice.pk)
    # The confirmation page changes nothing; the POST publishes.
    page = client.get(_url("publish", notice))
    assert page.status_code == 200 and "将发给 <strong>7</strong> 个组织" in page.content.decode()
    assert client.post(_url("publish", notice), {"version": notice.version}).status_code == 302
    notice.refresh_from_db()
    assert notice.is_published and notice.receipts.count() == 7
    assert AuditEvent.objects.filter(action="notices_publish", object_id=str(notice.pk)).exists()

    # A member of A1 reads it (body escaped, line breaks kept) without marking the org read.
    client.force_login(cast.member)
    html = client.get(_url("detail", notice)).content.decode()
    assert "各党组织：<br>请按要求开展。" in html and stored.name in html
    assert client.get(reverse("core:file", args=[stored.uid])).status_code == 200
    assert _a1(notice).read_at is None and "签收</button>" not in html
    # The secretary's first read marks A1 已阅 (audited); then they sign.
    client.force_login(cast.secretary_a)
    html = client.get(_url("detail", notice)).content.decode()
    receipt = _a1(notice)
    assert receipt.read_by == cast.secretary_a and "签收</button>" in html
    assert AuditEvent.objects.filter(action="notices_receipt_read", object_id=str(receipt.pk)).exists()
    assert client.get(_url("acknowledge", notice)).status_code == 405
    response = client.post(_url("acknowledge", notice), follow=True)
    assert "已代表市财政局机关第一支部委员会签收该通知" in response.content.decode()
    assert _a1(notice).acknowledged_by == cast.secretary_a
    assert AuditEvent.objects.filter(action="notices_receipt_ack", actor=cast.secretary_a).count() == 1
    # A member may not sign for the org.
    client.force_login(cast.member)
    assert client.post(_url("acknowledge", notice)).status_code == 403


def test_an_org_outside_the_audience_does_not_see_the_notice(client, cast):
    notice = published(cast, audience=[cast.committee_a, cast.general_b],
                       attachments=[SimpleUploadedFile("a.pdf", PDF)])  # fmt: skip
    stored = StoredFile.objects.get(owner_kind="notices.notice", owner_id=notice.pk)
    client.force_login(cast.outsider)
    for name in ("detail", "status", "status_export", "withdraw", "edit"):
        assert client.get(_url(name, notice)).status_code == 404, name
    assert client.post(_url("acknowledge", notice)).status_code == 404
    assert client.get(reverse("core:file", args=[stored.uid])).status_code == 404
    assert client.get(reverse("notices:detail", args=[999999])).status_code == 404
    assert "关于开展主题党日活动的通知" not in client.get(reverse("notices:list")).content.decode()
    # A draft exists for its issuers only.
    d = draft(cast, title="草稿")
    client.force_login(cast.secretary_a)
    assert client.get(_url("detail", d)).status_code == 404


def test_readers_who_are_not_issuers_get_403_on_the_issuers_pages(client, cast):
    notice = published(cast)
    for user in (cast.secretary_a, cast.member):
        client.force_login(user)
        assert client.get(_url("detail", notice)).status_code == 200
        for name in ("status", "status_export", "withdraw"):
            assert client.get(_url(name, notice)).status_code == 403, (user, name)
        assert client.post(_url("withdraw", notice), {"version": notice.version}).status_code == 403
    client.force_login(cast.member)
    assert client.get(reverse("notices:create")).status_code == 403
    assert Notice.objects.get().is_published
    html = client.get(_url("detail", notice)).content.decode()
    assert "&lt;b&gt;特此通知&lt;/b&gt;" in html and "<b>特此通知" not in html  # plain text, escaped


def test_no_page_carries_inline_styles_or_scripts(client, cast):
    notice = published(cast, requires_receipt=True)
    d = draft(cast, title="草稿")
    client.force_login(cast.committee_admin)
    urls = [reverse("notices:list"), reverse("notices:create"), _url("detail", notice), _url("status", notice),
            _url("withdraw", notice), _url("edit", d), _url("publish", d), _url("delete", d), _url("detail", d)]  # fmt: skip
    for url in urls:
        html = client.get(url).content.decode()
        assert " style=" not in html and "<script>" not in html and "hx-on" not in html, url


def test_the_status_table_counts_orgs_filters_and_exports_without_people(client, cast):
    notice = published(cast, requires_receipt=True, due_on=TODAY + timedelta(days=3))
    services.mark_read(actor=cast.secretary_a, notice=notice)
    services.acknowledge(actor=cast.secretary_b, notice=notice)
    client.force_login(cast.committee_admin)
    html = client.get(_url("status", notice)).content.decode()
    assert 'id="sz-total">7<' in html and 'id="sz-read">2<' in html and 'id="sz-acked">1<' in html
    for name in ("王建国", "李红梅", "赵敏", "刘洋"):  # never who read it, never a list of people
        assert name not in html
    unread = client.get(_url("status", notice), {"status": "unread"}).content.decode()
    assert "市司法局机关支部委员会" in unread and "市财政局机关第一支部委员会" not in unread
    searched = client.get(_url("status", notice), {"q": "教育局"}).content.decode()
    assert "市教育局机关第一支部委员会" in searched and "市司法局" not in searched
    response = client.get(_url("status_export", notice), {"status": "unread"})
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    event = AuditEvent.objects.get(action="notices_status_export")
    assert event.detail["rows"] == 5 and event.actor == cast.committee_admin


def test_withdrawing_asks_first_then_hides_the_body_from_readers(client, cast):
    notice = published(cast, attachments=[SimpleUploadedFile("a.pdf", PDF)])
    stored = StoredFile.objects.get(owner_kind="notices.notice", owner_id=notice.pk)
    client.force_login(cast.committee_admin)
    page = client.get(_url("withdraw", notice))
    assert page.status_code == 200 and "确认撤回" in page.content.decode()
    assert Notice.objects.get().is_published
    assert client.post(_url("withdraw", notice), {"version": 1, "reason": "x"}).status_code == 409
    assert (
        client.post(_url("withdraw", notice), {"version": notice.version, "reason": "内容调整"}).status_code
        == 302
    )
    assert Notice.objects.get().is_withdrawn
    assert AuditEvent.objects.filter(action="notices_withdraw", object_id=str(notice.pk)).exists()
    client.force_login(cast.member)
    html = client.get(_url("detail", notice)).content.decode()
    assert "已撤回" in html and "内容调整" in html and "请于六月底前" not in html
    assert client.get(reverse("core:file", args=[stored.uid])).status_code == 404


def test_a_bad_form_is_shown_again_with_422(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(reverse("notices:create"), {"org": cast.root.pk, "title": "", "body": ""})
    assert response.status_code == 422 and "必填" in response.content.decode()
    response = client.post(reverse("notices:create"), {"org": cast.root.pk, "title": "t", "body": "b",
                                                        "due_on": "2026-06-20"})  # fmt: skip
    assert response.status_code == 422 and "只有需要签收的通知" in response.content.decode()
    assert not Notice.objects.exists()
    d = draft(cast)
    response = client.post(_url("edit", d), {"org": cast.root.pk, "title": "t", "body": "b", "version": 99})
    assert response.status_code == 409


def test_the_list_shows_received_and_issued_notices_with_filters(client, cast):
    published(cast, title="全体通知")
    published(cast, title="教育局通知", audience=[cast.general_b])
    draft(cast, title="工委草稿")
    client.force_login(cast.secretary_a)
    html = client.get(reverse("notices:list")).content.decode()
    assert "全体通知" in html and "教育局通知" not in html and "工委草稿" not in html and "未阅" in html
    client.force_login(cast.committee_admin)
    html = client.get(reverse("notices:list"), {"box": "issued"}).content.decode()
    assert "全体通知" in html and "教育局通知" in html and "工委草稿" in html
    html = client.get(reverse("notices:list"), {"box": "issued", "state": "draft"}).content.decode()
    assert "工委草稿" in html and "全体通知" not in html
    html = client.get(reverse("notices:list"), {"box": "issued", "q": "教育"}).content.decode()
    assert "教育局通知" in html and "全体通知" not in html
    html = client.get(reverse("notices:list"), {"box": "issued", "year": "2025"}).content.decode()
    assert "没有符合条件的通知" in html


def _queries(client, url, params=None) -> int:
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_and_status_pages_stay_flat_as_notices_grow(client, cast):
    first = published(cast, requires_receipt=True)
    client.force_login(cast.secretary_a)
    inbox = _queries(client, reverse("notices:list"))
    client.force_login(cast.committee_admin)
    issued = _queries(client, reverse("notices:list"), {"box": "issued"})
    status = _queries(client, _url("status", first))
    for i in range(6):
        n = published(cast, title=f"通知{i}", requires_receipt=bool(i % 2))
        services.mark_read(actor=cast.secretary_a, notice=n)
        services.mark_read(actor=cast.secretary_b, notice=first)
    draft(cast, title="草稿")
    assert _queries(client, reverse("notices:list"), {"box": "issued"}) == issued
    assert _queries(client, _url("status", first)) == status
    client.force_login(cast.secretary_a)
    assert _queries(client, reverse("notices:list")) == inbox
    assert inbox <= 10 and issued <= 10


def test_the_home_card_counts_unread_and_unsigned_notices_in_two_queries(
    rf, cast, django_assert_max_num_queries
):
    notice = published(cast, requires_receipt=True)
    published(cast, title="第二份")
    request = rf.get("/")
    request.user = cast.secretary_a
    with django_assert_max_num_queries(2):
        assert home_card(request) == {"unread": 2, "unsigned": 1}
    services.acknowledge(actor=cast.secretary_a, notice=notice)
    services.mark_read(actor=cast.secretary_a, notice=Notice.objects.get(title="第二份"))
    request.user = type(cast.secretary_a).objects.get(pk=cast.secretary_a.pk)
    assert home_card(request) is None
    request.user = cast.member  # members have no org receipts to keep
    assert home_card(request) is None


def test_the_home_page_shows_the_card_to_a_secretary(client, cast):
    published(cast)
    client.force_login(cast.secretary_b)
    html = client.get(reverse("core:home")).content.decode()
    assert "未读通知" in html and "尚未阅知" in html
    client.force_login(cast.member)
    assert "未读通知" not in client.get(reverse("core:home")).content.decode()
