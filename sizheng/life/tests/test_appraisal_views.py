"""民主评议党员 screens: the whole flow, the 1/3 优秀 rule, privacy of results, statuses, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent, Notification
from sizheng.life import appraisal as svc
from sizheng.life.models import Appraisal, AppraisalEntry, Grade
from sizheng.org.models import Org, OrgRole
from sizheng.org.testing import appoint, make_org, make_person

pytestmark = pytest.mark.django_db
E, Q, B = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC
SELF_TEXT = "本人全年按时参加组织生活，认真完成预算编制任务。"
PEER_TEXT = "同志们认为该同志业务精通，但调查研究不够深入。"


@pytest.fixture(autouse=True)
def _today(time_machine):
    """A fixed day in December 2026 (the year being appraised)."""
    time_machine.move_to(date(2026, 12, 1), tick=False)


def _url(name, *args):
    return reverse(f"life:{name}", args=args)


@pytest.fixture
def branch(cast):
    """Branch A1 with five members: the cast's three, a second plain member with an account, one more."""
    other = make_person("钱芳", cast.unit_a, org=cast.branch_a1, username="dangyuan2")
    make_person("郑伟", cast.unit_a, org=cast.branch_a1)
    higher = make_person("吴刚", cast.unit_a, org=cast.committee_a, username="shuji_jiguan")
    appoint(higher, cast.committee_a, OrgRole.Title.SECRETARY)
    return {"other": other.user, "higher": higher.user}


def _opened(cast) -> Appraisal:
    return svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=2026)


def _entry(appraisal, user) -> AppraisalEntry:
    return appraisal.entries.get(person__user=user)


def _review_data(grade, **votes):
    data = {"part": "review", "peer_summary": "", "proposed_grade": grade}
    data.update({f"votes_{g}": votes.get(g, 0) for g in Grade.values})
    return data


def _proposed(cast, grades) -> Appraisal:
    """An appraisal of branch A1 proposed with these grades (members in person order)."""
    appraisal = _opened(cast)
    for entry, grade in zip(appraisal.entries.order_by("person_id"), grades, strict=True):
        svc.entry_review(actor=cast.secretary_a, entry=entry, peer_summary=PEER_TEXT, rating={},
                         proposed_grade=grade)  # fmt: skip
    appraisal.refresh_from_db()
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version,
                          excellent_reason="理由")  # fmt: skip
    appraisal.refresh_from_db()
    return appraisal


def test_it_runs_the_whole_flow(client, cast, branch):
    client.force_login(cast.secretary_a)
    r = client.get(_url("appraisal_create"))
    assert r.status_code == 200
    r = client.post(_url("appraisal_create"), {"org": cast.branch_a1.pk, "year": 2026, "meeting": ""})
    appraisal = Appraisal.objects.get(org=cast.branch_a1, year=2026)
    assert r.status_code == 302 and r["Location"] == _url("appraisal_detail", appraisal.pk)
    assert appraisal.entries.count() == 5
    assert AuditEvent.objects.filter(action="appraisal_open", actor=cast.secretary_a).exists()

    # The member writes their own self-assessment.
    client.force_login(cast.member)
    mine = _entry(appraisal, cast.member)
    r = client.post(
        _url("appraisal_entry", appraisal.pk, mine.pk), {"part": "self", "self_assessment": SELF_TEXT}
    )
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.self_assessment == SELF_TEXT
    assert AuditEvent.objects.filter(action="appraisal_self_assess", actor=cast.member).exists()

    # The secretary records the review for everyone: two 优秀 of five is within 1/3? No: 2/5 > 1/3.
    client.force_login(cast.secretary_a)
    grades = [E, E, Q, Q, B]
    for entry, grade in zip(appraisal.entries.order_by("person_id"), grades, strict=True):
        data = _review_data(grade, excellent=3, qualified=2) | {"peer_summary": PEER_TEXT}
        r = client.post(_url("appraisal_entry", appraisal.pk, entry.pk), data)
        assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.peer_summary == PEER_TEXT and mine.rating == {E: 3, Q: 2}

    appraisal.refresh_from_db()
    r = client.post(
        _url("appraisal_propose", appraisal.pk), {"version": appraisal.version, "excellent_reason": ""}
    )
    assert r.status_code == 422
    assert "超过参评党员 5 人的三分之一" in r.content.decode()
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN
    r = client.post(
        _url("appraisal_propose", appraisal.pk),
        {"version": appraisal.version, "excellent_reason": "两名同志获市级表彰。"},
    )
    assert r.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.PROPOSED and appraisal.is_flagged
    assert Notification.objects.filter(user=branch["higher"], title__contains="超过三分之一").exists()

    # The flag shows on the higher org's list; the higher org approves.
    client.force_login(branch["higher"])
    r = client.get(_url("appraisals"))
    assert "优秀超过三分之一" in r.content.decode()
    r = client.get(_url("appraisal_approve", appraisal.pk))
    assert r.status_code == 200 and "两名同志获市级表彰" in r.content.decode()
    r = client.post(
        _url("appraisal_approve", appraisal.pk), {"version": appraisal.version, "decision": "approve"}
    )
    assert r.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.APPROVED
    assert list(appraisal.entries.order_by("person_id").values_list("final_grade", flat=True)) == grades
    assert AuditEvent.objects.filter(action="appraisal_approve", actor=branch["higher"]).exists()

    # The member sees their own result.
    client.force_login(cast.member)
    mine.refresh_from_db()
    r = client.get(_url("my_appraisal"))
    assert r.status_code == 200
    assert mine.get_final_grade_display() in r.content.decode()
    r = client.get(_url("appraisal_entry", appraisal.pk, mine.pk))
    assert SELF_TEXT in r.content.decode() and PEER_TEXT in r.content.decode()


def test_it_keeps_a_result_invisible_to_other_members(client, cast, branch):
    appraisal = _opened(cast)
    mine = _entry(appraisal, cast.member)
    svc.entry_self_assess(actor=cast.member, entry=mine, text=SELF_TEXT)
    for entry in appraisal.entries.order_by("person_id"):
        grade = E if entry.pk == mine.pk else Q
        svc.entry_review(actor=cast.secretary_a, entry=entry, peer_summary=PEER_TEXT if entry.pk == mine.pk else "",
                         rating={E: 4}, proposed_grade=grade)  # fmt: skip
    appraisal.refresh_from_db()
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    appraisal.refresh_from_db()
    svc.appraisal_review(actor=branch["higher"], appraisal=appraisal, version=appraisal.version, approve=True)

    client.force_login(branch["other"])
    r = client.get(_url("appraisal_entry", appraisal.pk, mine.pk))
    assert r.status_code == 404
    theirs = _entry(appraisal, branch["other"])
    pages = [_url("appraisals"), _url("appraisal_detail", appraisal.pk), _url("my_appraisal")]
    for url in pages:
        body = client.get(url).content.decode()
        assert "刘洋" not in body and SELF_TEXT not in body and PEER_TEXT not in body
        assert "优秀" not in body  # neither the member's grade nor any count by grade
    body = client.get(_url("appraisal_entry", appraisal.pk, theirs.pk)).content.decode()
    assert "合格" in body and "刘洋" not in body and SELF_TEXT not in body and PEER_TEXT not in body
    # The member's own pages show their own result.
    client.force_login(cast.member)
    assert "优秀" in client.get(_url("my_appraisal")).content.decode()
    # Leaders and counselors of the unit see that it exists, nothing about anyone.
    for user in (cast.leader, cast.counselor):
        client.force_login(user)
        body = client.get(_url("appraisal_detail", appraisal.pk)).content.decode()
        assert "已审批" in body and "刘洋" not in body and "优秀" not in body
        assert client.get(_url("appraisal_entry", appraisal.pk, mine.pk)).status_code == 404


def test_it_shows_the_committee_aggregates_not_people_once_approved(client, cast, branch):
    appraisal = _proposed(cast, [E, Q, Q, Q, B])
    client.force_login(cast.committee_admin)
    # During approval the approver sees the entries (and the read is audited).
    mine = _entry(appraisal, cast.member)
    r = client.get(_url("appraisal_entry", appraisal.pk, mine.pk))
    assert r.status_code == 200 and PEER_TEXT in r.content.decode()
    assert AuditEvent.objects.filter(action="read_sensitive", actor=cast.committee_admin,
                                     object_id=str(mine.pk)).exists()  # fmt: skip
    client.post(
        _url("appraisal_approve", appraisal.pk), {"version": appraisal.version, "decision": "approve"}
    )
    body = client.get(_url("appraisals")).content.decode()
    assert "优秀 1" in body and "合格 3" in body and "基本合格 1" in body and "刘洋" not in body
    body = client.get(_url("appraisal_detail", appraisal.pk)).content.decode()
    assert "刘洋" not in body and "优秀 1 人" in body
    assert client.get(_url("appraisal_entry", appraisal.pk, mine.pk)).status_code == 404


def test_it_hides_the_aggregates_of_a_small_branch_from_the_higher_org(client, cast):
    appraisal = _proposed(cast, [E, Q, Q])
    client.force_login(cast.committee_admin)
    client.post(
        _url("appraisal_approve", appraisal.pk), {"version": appraisal.version, "decision": "approve"}
    )
    body = client.get(_url("appraisals")).content.decode()
    assert "不公开" in body and "优秀 1" not in body


def test_it_audits_the_secretarys_read_of_a_members_entry(client, cast, branch):
    appraisal = _opened(cast)
    mine = _entry(appraisal, cast.member)
    client.force_login(cast.secretary_a)
    assert client.get(_url("appraisal_entry", appraisal.pk, mine.pk)).status_code == 200
    event = AuditEvent.objects.get(action="read_sensitive", actor=cast.secretary_a, object_id=str(mine.pk))
    assert "self_assessment" in event.detail["fields"]
    client.force_login(cast.member)
    client.get(_url("appraisal_entry", appraisal.pk, mine.pk))
    assert not AuditEvent.objects.filter(action="read_sensitive", actor=cast.member).exists()


def test_it_answers_404_to_outsiders(client, cast, branch):
    appraisal = _opened(cast)
    entry = _entry(appraisal, cast.member)
    client.force_login(cast.outsider)
    assert client.get(_url("appraisal_detail", appraisal.pk)).status_code == 404
    for url in (
        _url("appraisal_entry", appraisal.pk, entry.pk),
        _url("appraisal_propose", appraisal.pk),
        _url("appraisal_approve", appraisal.pk),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {}).status_code == 404
    assert cast.branch_a1.name not in client.get(_url("appraisals")).content.decode()
    # An entry of another appraisal under this appraisal's URL is not found either.
    client.force_login(cast.secretary_a)
    other = svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=2025)
    assert client.get(_url("appraisal_entry", other.pk, entry.pk)).status_code == 404


def test_it_answers_405_to_wrong_methods(client, cast, branch):
    appraisal = _opened(cast)
    entry = _entry(appraisal, cast.member)
    client.force_login(cast.secretary_a)
    for name, args in (("appraisals", ()), ("appraisal_detail", (appraisal.pk,)), ("my_appraisal", ())):
        assert client.post(_url(name, *args)).status_code == 405
    for name, args in (
        ("appraisal_create", ()),
        ("appraisal_entry", (appraisal.pk, entry.pk)),
        ("appraisal_propose", (appraisal.pk,)),
        ("appraisal_approve", (appraisal.pk,)),
    ):
        assert client.delete(_url(name, *args)).status_code == 405


def test_it_answers_403_to_read_only_users(client, cast, branch):
    appraisal = _opened(cast)
    mine = _entry(appraisal, cast.member)
    client.force_login(cast.member)
    assert client.get(_url("appraisal_create")).status_code == 403
    assert client.get(_url("appraisal_propose", appraisal.pk)).status_code == 403
    assert client.get(_url("appraisal_approve", appraisal.pk)).status_code == 403
    r = client.post(_url("appraisal_entry", appraisal.pk, mine.pk), _review_data(E))
    assert r.status_code == 403
    mine.refresh_from_db()
    assert mine.proposed_grade == ""
    # The branch secretary does not approve its own proposal; the secretary does not write a self-assessment.
    client.force_login(cast.secretary_a)
    assert client.get(_url("appraisal_approve", appraisal.pk)).status_code == 403
    r = client.post(
        _url("appraisal_entry", appraisal.pk, mine.pk), {"part": "self", "self_assessment": "代写"}
    )
    assert r.status_code == 403
    client.force_login(cast.leader)
    assert client.get(_url("appraisal_propose", appraisal.pk)).status_code == 403


def test_it_answers_422_with_the_message_to_bad_input(client, cast, branch):
    appraisal = _opened(cast)
    mine = _entry(appraisal, cast.member)
    client.force_login(cast.secretary_a)
    r = client.post(_url("appraisal_entry", appraisal.pk, mine.pk), _review_data(Q, excellent=4, qualified=3))
    assert r.status_code == 422
    assert "不能超过参评党员人数 5" in r.content.decode()
    r = client.post(_url("appraisal_entry", appraisal.pk, mine.pk), _review_data(Q, excellent=-1))
    assert r.status_code == 422 and "票数不能小于 0" in r.content.decode()
    mine.refresh_from_db()
    assert mine.rating == {} and mine.proposed_grade == ""
    r = client.post(_url("appraisal_create"), {"org": cast.branch_a1.pk, "year": 2026})
    assert r.status_code == 422 and "已经开启" in r.content.decode()
    appraisal.refresh_from_db()
    r = client.post(_url("appraisal_propose", appraisal.pk), {"version": appraisal.version})
    assert r.status_code == 422 and "尚未确定建议等次" in r.content.decode()
    client.force_login(cast.member)
    r = client.post(_url("appraisal_entry", appraisal.pk, mine.pk), {"part": "self", "self_assessment": ""})
    assert r.status_code == 422


def test_it_answers_409_to_stale_forms_and_closed_states(client, cast, branch):
    appraisal = _opened(cast)
    for entry in appraisal.entries.all():
        svc.entry_review(actor=cast.secretary_a, entry=entry, peer_summary="", rating={}, proposed_grade=Q)
    appraisal.refresh_from_db()
    stale = appraisal.version
    mine = _entry(appraisal, cast.member)
    svc.entry_self_assess(actor=cast.member, entry=mine, text=SELF_TEXT)  # changes the appraisal meanwhile
    client.force_login(cast.secretary_a)
    r = client.post(_url("appraisal_propose", appraisal.pk), {"version": stale})
    assert r.status_code == 409 and "已被他人修改" in r.content.decode()
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN
    assert (
        client.post(_url("appraisal_propose", appraisal.pk), {"version": appraisal.version}).status_code
        == 302
    )
    # Once proposed, entries are locked and a second approval is refused.
    client.force_login(cast.member)
    r = client.post(_url("appraisal_entry", appraisal.pk, mine.pk), {"part": "self", "self_assessment": "改"})
    assert r.status_code == 409
    appraisal.refresh_from_db()
    client.force_login(branch["higher"])
    approve = {"version": appraisal.version, "decision": "approve"}
    assert client.post(_url("appraisal_approve", appraisal.pk), approve).status_code == 302
    assert client.post(_url("appraisal_approve", appraisal.pk), approve).status_code == 409


def test_it_returns_to_the_branch_with_an_opinion(client, cast, branch):
    appraisal = _proposed(cast, [Q, Q, Q, Q, Q])
    client.force_login(branch["higher"])
    r = client.post(
        _url("appraisal_approve", appraisal.pk), {"version": appraisal.version, "decision": "return"}
    )
    assert r.status_code == 422 and "退回时须写明退回意见" in r.content.decode()
    r = client.post(
        _url("appraisal_approve", appraisal.pk),
        {"version": appraisal.version, "decision": "return", "opinion": "请补充互评意见。"},
    )
    assert r.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN
    assert Notification.objects.filter(user=cast.secretary_a, body__contains="请补充互评意见").exists()
    assert AuditEvent.objects.filter(action="appraisal_return", actor=branch["higher"]).exists()


def _many(cast, n: int) -> None:
    """n more branches under committee A, each with one member and an approved appraisal, plus the
    cast member's entries for n earlier years."""
    for i in range(n):
        org = make_org(f"测试支部{i}", Org.Kind.BRANCH, cast.committee_a, f"QC{Org.objects.count()}")
        person = make_person(f"党员{i}", cast.unit_a, org=org)
        a = Appraisal.objects.create(org=org, year=2026, state=Appraisal.State.APPROVED)
        AppraisalEntry.objects.create(appraisal=a, person=person, proposed_grade=Q, final_grade=Q)
        year = 2025 - Appraisal.objects.filter(org=cast.branch_a1).count()
        own = Appraisal.objects.create(org=cast.branch_a1, year=year)
        AppraisalEntry.objects.create(appraisal=own, person=cast.person(cast.member))


@pytest.mark.parametrize("who", ["committee_admin", "secretary_a", "member"])
def test_it_keeps_the_list_queries_flat(client, cast, who):
    user = getattr(cast, who)
    client.force_login(user)
    for name in ("appraisals", "my_appraisal"):  # warm the per-process caches (session, calendar)
        client.get(_url(name))
    counts = []
    for n in (2, 6):
        _many(cast, n)
        for name in ("appraisals", "my_appraisal"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(_url(name)).status_code == 200
            counts.append((name, len(ctx.captured_queries)))
    assert counts[:2] == counts[2:]


def test_it_lists_within_a_query_budget(client, cast, django_assert_max_num_queries):
    _many(cast, 5)
    client.force_login(cast.committee_admin)
    with django_assert_max_num_queries(20):
        assert client.get(_url("appraisals")).status_code == 200
