"""Talks screens: the ledger, my talks, recording, a talk's page, editing, cancelling, the follow-up duty;
who sees what (ARCHITECTURE §4–5) and the statuses of every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty, SourceKind
from sizheng.talks.models import Kind, Mode, Status, Talk
from sizheng.talks.tests.test_services import CANARY, TODAY, record

pytestmark = pytest.mark.django_db
# What a T2 leak would show: the planted text, the kind's label and a tag (see ``record``).
T2_MARKERS = (CANARY, "家庭变故或困难必谈", "心理压力")


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _no_t2(response) -> None:
    text = response.content.decode()
    for marker in T2_MARKERS:
        assert marker not in text, marker


def _reads(user, talk) -> int:
    return AuditEvent.objects.filter(
        actor=user, action="read_sensitive", object_type="talks.talk", object_id=str(talk.pk)
    ).count()


def _wellbeing(cast):
    """A wellbeing-flagged talk in branch A1, held by the 党务干部 with 刘洋 (not by the 书记)."""
    return record(cast, actor=cast.org_admin, initiator=cast.person(cast.org_admin), is_wellbeing=True)


# --- the ledger and my talks ---------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_lists_the_talks_of_the_secretarys_orgs_without_any_content(client, cast):
    mine = record(cast)
    other = record(cast, actor=cast.secretary_b, org=cast.branch_b1, initiator=cast.person(cast.secretary_b),
                   counterparts=[_b_member(cast)])  # fmt: skip
    response = _get(client, cast.secretary_a, reverse("talks:ledger"))
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        reverse("talks:detail", args=[mine.pk]) in text
        and reverse("talks:detail", args=[other.pk]) not in text
    )
    assert "王建国" in text and "刘洋" in text and "面谈" in text and "已谈话" in text
    _no_t2(response)
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


def _b_member(cast):
    from sizheng.org.testing import make_person

    return make_person("吴晓", cast.unit_b, org=cast.branch_b1)


@time_machine.travel(TODAY, tick=False)
def test_it_filters_the_ledger_by_name_mode_status_and_dates(client, cast):
    a = record(cast)
    b = record(
        cast, counterparts=[cast.person(cast.org_admin)], mode=Mode.PHONE, held_on=TODAY - timedelta(days=40)
    )
    url = reverse("talks:ledger")

    def ids(**params):
        text = _get(client, cast.committee_admin, url, **params).content.decode()
        return {t.pk for t in (a, b) if reverse("talks:detail", args=[t.pk]) in text}

    assert ids() == {a.pk, b.pk}
    assert ids(q="赵敏") == {b.pk}
    assert ids(mode="phone") == {b.pk}
    assert ids(status="planned") == set()
    assert ids(date_from=(TODAY - timedelta(days=10)).isoformat()) == {a.pk}
    assert ids(org=cast.branch_b1.pk) == set()
    assert ids(org=cast.committee_a.pk) == {a.pk, b.pk}


@time_machine.travel(TODAY, tick=False)
def test_it_shows_a_member_only_the_talks_they_took_part_in(client, cast):
    with_me = record(cast)
    without_me = record(cast, counterparts=[cast.person(cast.org_admin)])
    text = _get(client, cast.member, reverse("talks:ledger")).content.decode()
    assert "我参与的谈心谈话" in text
    assert reverse("talks:detail", args=[with_me.pk]) in text
    assert reverse("talks:detail", args=[without_me.pk]) not in text


@time_machine.travel(TODAY, tick=False)
def test_it_keeps_the_ledgers_query_count_flat_as_talks_grow(client, cast, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record(cast)
    client.force_login(cast.secretary_a)
    url = reverse("talks:ledger")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(12):
        record(cast, counterparts=[cast.person(cast.member), cast.person(cast.org_admin)],
               held_on=TODAY - timedelta(days=i + 3))  # fmt: skip
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200
    client.force_login(cast.member)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("talks:mine"))
    record(cast, held_on=TODAY - timedelta(days=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("talks:mine"))


@time_machine.travel(TODAY, tick=False)
def test_it_shows_the_counterpart_that_a_talk_with_them_was_recorded(client, cast):
    talk = record(cast)
    response = _get(client, cast.member, reverse("talks:mine"), role="counterpart")
    text = response.content.decode()
    assert reverse("talks:detail", args=[talk.pk]) in text and "谈话对象" in text
    _no_t2(response)
    assert (
        reverse("talks:detail", args=[talk.pk])
        not in _get(client, cast.member, reverse("talks:mine"), role="initiator").content.decode()
    )


# --- a talk's page -------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_answers_404_for_a_talk_in_another_branch(client, cast):
    talk = record(cast)
    for user in (cast.secretary_b, cast.outsider, cast.leader, cast.union, cast.auditor):
        assert _get(client, user, reverse("talks:detail", args=[talk.pk])).status_code == 404
        assert _get(client, user, reverse("talks:edit", args=[talk.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


@time_machine.travel(TODAY, tick=False)
def test_it_shows_the_committee_admin_who_when_mode_and_status_only(client, cast):
    talk = record(cast)
    response = _get(client, cast.committee_admin, reverse("talks:detail", args=[talk.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "王建国" in text and "刘洋" in text and "面谈" in text and "已谈话" in text
    assert "谈话内容仅谈话参与人和记录所在党组织的书记可以查看" in text
    _no_t2(response)
    assert _reads(cast.committee_admin, talk) == 0


@time_machine.travel(TODAY, tick=False)
def test_it_shows_the_content_to_the_secretary_of_the_recording_org_and_audits_each_read(client, cast):
    talk = record(cast, actor=cast.org_admin, initiator=cast.person(cast.org_admin))
    for n in (1, 2):
        response = _get(client, cast.secretary_a, reverse("talks:detail", args=[talk.pk]))
        text = response.content.decode()
        assert f"{CANARY}-summary" in text and f"{CANARY}-content" in text and "家庭变故或困难必谈" in text
        assert _reads(cast.secretary_a, talk) == n
    event = AuditEvent.objects.filter(action="read_sensitive").first()
    assert event.detail == {"fields": list(Talk.T2_FIELDS)} and CANARY not in event.object_repr


@time_machine.travel(TODAY, tick=False)
def test_it_hides_a_wellbeing_talk_from_the_secretary_and_shows_it_to_the_counselor(client, cast):
    talk = _wellbeing(cast)
    url = reverse("talks:detail", args=[talk.pk])
    response = _get(client, cast.secretary_a, url)
    assert response.status_code == 200 and "赵敏" in response.content.decode()
    _no_t2(response)
    assert _reads(cast.secretary_a, talk) == 0
    for reader in (cast.counselor, cast.member, cast.org_admin):
        text = _get(client, reader, url).content.decode()
        assert f"{CANARY}-content" in text, reader
        assert _reads(reader, talk) == 1
    assert _get(client, cast.outsider, url).status_code == 404
    assert _get(client, cast.secretary_b, url).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_offers_follow_ups_to_the_recorder_only(client, cast):
    talk = record(cast)
    text = _get(client, cast.secretary_a, reverse("talks:detail", args=[talk.pk])).content.decode()
    assert (
        reverse("talks:follow_up", args=[talk.pk]) in text and reverse("talks:edit", args=[talk.pk]) in text
    )
    text = _get(client, cast.org_admin, reverse("talks:detail", args=[talk.pk])).content.decode()
    assert reverse("talks:follow_up", args=[talk.pk]) not in text
    assert reverse("talks:edit", args=[talk.pk]) not in text


# --- recording -----------------------------------------------------------------------------------


def _form(cast, **over):
    data = {
        "org": cast.branch_a1.pk, "status": Status.HELD, "initiator": cast.person(cast.secretary_a).pk,
        "counterparts": [cast.person(cast.member).pk], "held_on": (TODAY - timedelta(days=1)).isoformat(),
        "mode": Mode.ONLINE, "kind": Kind.DAILY, "tags": ["工作", "学习"], "summary": "谈了近期工作和学习安排。",
    }  # fmt: skip
    data.update(over)
    return data


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_talk_from_the_form(client, cast):
    client.force_login(cast.secretary_a)
    page = client.get(reverse("talks:create"))
    text = page.content.decode()
    assert page.status_code == 200 and "刘洋" in text and "赵敏" in text and TODAY.isoformat() in text
    assert "心理咨询员" in text  # the wellbeing checkbox says what it changes
    response = client.post(reverse("talks:create"), _form(cast))
    talk = Talk.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("talks:detail", args=[talk.pk])
    assert talk.mode == Mode.ONLINE and talk.tag_list == ["工作", "学习"] and talk.org == cast.branch_a1
    assert AuditEvent.objects.filter(
        action="talk_record", object_id=str(talk.pk), actor=cast.secretary_a
    ).exists()


@time_machine.travel(TODAY, tick=False)
def test_it_narrows_the_roster_by_name_without_javascript(client, cast):
    text = _get(client, cast.secretary_a, reverse("talks:create"), q="刘").content.decode()
    assert f'name="counterparts" value="{cast.person(cast.member).pk}"' in text
    assert f'name="counterparts" value="{cast.person(cast.org_admin).pk}"' not in text


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_bad_input_with_422_and_the_message(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(reverse("talks:create"), _form(cast, counterparts=[], summary=""))
    assert response.status_code == 422 and "请至少选择一名谈话对象。" in response.content.decode()
    response = client.post(reverse("talks:create"), _form(cast, summary=""))
    assert response.status_code == 422 and "请填写谈话摘要" in response.content.decode()
    future = (TODAY + timedelta(days=3)).isoformat()
    response = client.post(reverse("talks:create"), _form(cast, held_on=future))
    assert response.status_code == 422 and "不能晚于今天" in response.content.decode()
    assert not Talk.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_recording_to_those_who_may_not(client, cast):
    # Outside scope: 404; in scope without a right to record there: 403.
    assert _get(client, cast.secretary_a, reverse("talks:create"), org=cast.branch_b1.pk).status_code == 404
    assert _get(client, cast.counselor, reverse("talks:create")).status_code == 403
    client.force_login(cast.member)
    # 刘洋 records a talk between two others: 403.
    response = client.post(
        reverse("talks:create"), _form(cast, counterparts=[cast.person(cast.org_admin).pk])
    )
    assert response.status_code == 403 and not Talk.objects.exists()
    assert client.put(reverse("talks:create")).status_code == 405


# --- editing, cancelling, following up -----------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_edits_a_talk_with_its_version(client, cast):
    talk = record(cast)
    client.force_login(cast.secretary_a)
    page = client.get(reverse("talks:edit", args=[talk.pk]))
    assert page.status_code == 200 and f"{CANARY}-content" in page.content.decode()
    assert _reads(cast.secretary_a, talk) == 1
    data = _form(cast, version=talk.version, summary="补充：已约定下月再谈。")
    response = client.post(reverse("talks:edit", args=[talk.pk]), data)
    assert response.status_code == 302
    fresh = Talk.objects.get(pk=talk.pk)
    assert fresh.summary == "补充：已约定下月再谈。" and fresh.version == 2
    assert AuditEvent.objects.filter(action="talk_update", object_id=str(talk.pk)).exists()
    stale = client.post(reverse("talks:edit", args=[talk.pk]), _form(cast, version=1, summary="旧"))
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    bad = client.post(reverse("talks:edit", args=[talk.pk]), _form(cast, version=2, tags=["八卦"]))
    assert bad.status_code == 422
    assert Talk.objects.get(pk=talk.pk).summary == "补充：已约定下月再谈。"


@time_machine.travel(TODAY, tick=False)
def test_it_answers_403_to_a_reader_who_did_not_record_the_talk(client, cast):
    talk = record(cast)
    for user in (cast.org_admin, cast.committee_admin, cast.member):
        client.force_login(user)
        assert client.get(reverse("talks:edit", args=[talk.pk])).status_code == 403
        assert client.post(reverse("talks:edit", args=[talk.pk]), _form(cast, version=1)).status_code == 403
        assert (
            client.post(reverse("talks:cancel", args=[talk.pk]), {"version": 1, "reason": "x"}).status_code
            == 403
        )
        due = {"due_on": (TODAY + timedelta(days=5)).isoformat()}
        assert client.post(reverse("talks:follow_up", args=[talk.pk]), due).status_code == 403
    assert Talk.objects.get(pk=talk.pk).version == 1 and not Duty.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_cancels_a_planned_talk(client, cast):
    planned = record(cast, status=Status.PLANNED, held_on=TODAY + timedelta(days=3), summary="")
    url = reverse("talks:cancel", args=[planned.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    bad = client.post(url, {"version": 1, "reason": ""})
    assert bad.status_code == 422 and "取消原因" in bad.content.decode()
    response = client.post(url, {"version": 1, "reason": "对方出差"})
    assert response.status_code == 302 and Talk.objects.get(pk=planned.pk).status == Status.CANCELLED
    assert AuditEvent.objects.filter(action="talk_cancel", object_id=str(planned.pk)).exists()
    again = client.post(url, {"version": 2, "reason": "再取消"})
    assert again.status_code == 409
    assert client.get(reverse("talks:edit", args=[planned.pk])).status_code == 409
    client.force_login(cast.outsider)
    assert client.post(url, {"version": 2, "reason": "x"}).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_opens_a_follow_up_duty_from_the_talk_page(client, cast):
    talk = record(cast)
    url = reverse("talks:follow_up", args=[talk.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    bad = client.post(url, {"due_on": (TODAY - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and "跟进期限不能早于今天" in bad.content.decode()
    response = client.post(url, {"due_on": (TODAY + timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    duty = Duty.objects.get()
    assert duty.title == "谈心谈话提醒" and (duty.source_kind, duty.source_id) == (SourceKind.TALK, talk.pk)
    assert duty.owner == cast.person(cast.secretary_a) and duty.due_on >= TODAY + timedelta(days=7)
    assert AuditEvent.objects.filter(action="talk_follow_up_duty", object_id=str(talk.pk)).exists()
    client.force_login(cast.secretary_b)
    assert client.post(url, {"due_on": (TODAY + timedelta(days=7)).isoformat()}).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_shows_the_home_card_without_content(client, cast):
    record(cast, status=Status.PLANNED, held_on=TODAY + timedelta(days=1), summary="")
    response = _get(client, cast.secretary_a, "/")
    assert response.status_code == 200 and "1</strong> 次约谈尚未开展" in response.content.decode()
    _no_t2(response)


@time_machine.travel(TODAY, tick=False)
def test_it_still_edits_a_talk_whose_counterpart_has_left_since(client, cast):
    from sizheng.org.models import Person

    talk = record(cast)
    Person.objects.filter(pk=cast.person(cast.member).pk).update(left_on=TODAY)
    client.force_login(cast.secretary_a)
    assert "刘洋" in client.get(reverse("talks:edit", args=[talk.pk])).content.decode()
    response = client.post(reverse("talks:edit", args=[talk.pk]), _form(cast, version=1, summary="补记。"))
    assert response.status_code == 302 and Talk.objects.get(pk=talk.pk).summary == "补记。"
    # But nobody who has left can be put on a new record.
    response = client.post(reverse("talks:create"), _form(cast))
    assert response.status_code == 422
