"""Plans, topics, groups, sessions, my study and the yearly archive: access, writes, query counts."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent, StoredFile
from sizheng.life.models import AttendanceStatus, MeetingKind
from sizheng.org.testing import make_person
from sizheng.study import services
from sizheng.study.models import Observation, StudyGroup, StudyPlan, StudySession
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _audited(action: str, obj) -> bool:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).exists()


def _plan(cast, org=None, year=2026, title="2026年理论学习计划") -> StudyPlan:
    return services.plan_create(actor=cast.secretary_a, org=org or cast.branch_a1, year=year, title=title)


# --- plans ---------------------------------------------------------------------------------------


def test_it_creates_a_plan_with_audit_and_refuses_a_second_for_the_year(client, cast):
    client.force_login(cast.secretary_a)
    url = reverse("study:plan_create")
    assert client.get(url).status_code == 200
    data = {"org": cast.branch_a1.pk, "year": 2026, "title": "第一支部2026年学习计划"}
    response = client.post(url, data)
    plan = StudyPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "study:plan_detail", args=[plan.pk]
    )
    assert _audited("study_plan_create", plan)
    again = client.post(url, data)
    assert again.status_code == 422
    assert "2026 年度的学习计划已经建立" in again.content.decode()
    assert client.post(url, {**data, "title": ""}).status_code == 422


def test_it_forbids_plan_writes_to_members_and_hides_plans_from_outsiders(client, cast):
    plan = _plan(cast)
    client.force_login(cast.member)
    assert client.get(reverse("study:plan_detail", args=[plan.pk])).status_code == 200  # read-only
    assert client.get(reverse("study:plan_create")).status_code == 403
    response = client.post(reverse("study:topic_add", args=[plan.pk]), {"title": "专题"})
    assert response.status_code == 403
    client.force_login(cast.outsider)
    assert client.get(reverse("study:plan_detail", args=[plan.pk])).status_code == 404
    assert client.post(reverse("study:topic_add", args=[plan.pk]), {"title": "专题"}).status_code == 404
    assert plan.title not in client.get(reverse("study:plans")).content.decode()


def test_it_adds_topics_saves_the_summary_and_publishes(client, cast):
    plan = _plan(cast)
    client.force_login(cast.secretary_a)
    publish = reverse("study:plan_publish", args=[plan.pk])
    assert client.post(publish, {"version": plan.version}).status_code == 422  # no topics yet
    response = client.post(reverse("study:topic_add", args=[plan.pk]), {"title": "学习党章", "month": 3})
    assert response.status_code == 302
    assert plan.topics.get().title == "学习党章"
    assert (
        client.post(reverse("study:topic_add", args=[plan.pk]), {"title": "", "month": 13}).status_code == 422
    )
    plan.refresh_from_db()
    edit = reverse("study:plan_update", args=[plan.pk])
    response = client.post(
        edit, {"title": plan.title, "summary": "全年完成学习专题。", "version": plan.version}
    )
    assert response.status_code == 302
    stale = client.post(edit, {"title": plan.title, "summary": "旧版本", "version": plan.version})
    assert stale.status_code == 409
    plan.refresh_from_db()
    assert plan.summary == "全年完成学习专题。" and _audited("study_plan_update", plan)
    assert client.post(publish, {"version": plan.version}).status_code == 302
    plan.refresh_from_db()
    assert plan.state == StudyPlan.State.PUBLISHED and _audited("study_plan_publish", plan)
    assert client.get(publish).status_code == 405


def test_it_lists_plans_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    _plan(cast)
    url = reverse("study:plans")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for year in range(2010, 2025):
        plan = _plan(cast, year=year, title=f"{year}年计划")
        services.topic_add(actor=cast.secretary_a, plan=plan, title="专题", month=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "2010年计划" in response.content.decode()


# --- groups --------------------------------------------------------------------------------------


def test_it_sets_up_a_youth_group_across_branches(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(
        reverse("study:group_create"),
        {
            "org": cast.committee_a.pk,
            "name": "青年理论学习小组",
            "kind": StudyGroup.Kind.YOUTH,
            "description": "35 岁及以下",
        },
    )
    group = StudyGroup.objects.get()
    assert response.status_code == 302 and _audited("study_group_create", group)
    for user in (cast.member, cast.leader):  # branches A1 and A2
        person = cast.person(user)
        response = client.post(reverse("study:group_member_add", args=[group.pk]), {"person": person.pk})
        assert response.status_code == 302
    assert group.members.count() == 2
    again = client.post(
        reverse("study:group_member_add", args=[group.pk]), {"person": cast.person(cast.member).pk}
    )
    assert again.status_code == 422
    client.force_login(cast.member)
    page = client.get(reverse("study:group_detail", args=[group.pk]))
    assert page.status_code == 200 and "陈志强" in page.content.decode()
    response = client.post(reverse("study:group_member_remove", args=[group.pk, cast.person(cast.leader).pk]))
    assert response.status_code == 403
    client.force_login(cast.outsider)
    assert client.get(reverse("study:group_detail", args=[group.pk])).status_code == 404


def test_it_lists_groups_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    services.group_create(actor=None, org=cast.branch_a1, name="小组0", kind="other")
    url = reverse("study:groups")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for i in range(1, 15):
        g = services.group_create(actor=None, org=cast.branch_a1, name=f"小组{i}", kind="youth")
        g.members.add(cast.person(cast.member))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "小组14" in client.get(url).content.decode()


# --- sessions ------------------------------------------------------------------------------------


def test_it_links_a_meeting_as_a_study_session(client, cast):
    plan = _plan(cast)
    topic = services.topic_add(actor=cast.secretary_a, plan=plan, title="学习党章", month=11)
    meeting = lecture(cast, date(2026, 11, 10), kind=MeetingKind.MEMBERS_MEETING)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("study:session_create")).status_code == 200
    data = {"meeting": meeting.pk, "topic": topic.pk, "keynote_speakers": [cast.person(cast.secretary_a).pk],
            "materials": "《党章》"}  # fmt: skip
    response = client.post(reverse("study:session_create"), data)
    session = StudySession.objects.get()
    assert response.status_code == 302 and _audited("study_session_link", session)
    assert session.topic == topic and list(session.keynote_speakers.all()) == [cast.person(cast.secretary_a)]
    assert client.post(reverse("study:session_create"), data).status_code == 422  # linked once only
    page = client.get(reverse("study:session_detail", args=[session.pk])).content.decode()
    assert "学习党章" in page and "刘洋" in page
    assert f'href="{reverse("life:meeting_detail", args=[meeting.pk])}"' in page  # the meeting is the record
    plan_page = client.get(reverse("study:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("study:session_detail", args=[session.pk]) in plan_page
    client.force_login(cast.outsider)
    assert client.get(reverse("study:session_detail", args=[session.pk])).status_code == 404


def test_it_lists_sessions_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    client.force_login(cast.secretary_a)
    services.session_link(actor=None, meeting=lecture(cast, date(2026, 1, 5)))
    url = reverse("study:sessions")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for day in range(6, 20):
        services.session_link(actor=None, meeting=lecture(cast, date(2026, 1, day)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).content.decode().count("study/sessions/") >= 15


# --- my study ------------------------------------------------------------------------------------


def test_it_shows_my_hours_against_the_requirement_and_a_coverage_count(client, cast):
    for month in range(1, 9):
        lecture(cast, date(2026, month, 10))  # 8 half days = 32 hours for everyone present
    lecture(
        cast,
        date(2026, 9, 10),
        attendance={cast.person(cast.org_admin).pk: (AttendanceStatus.ON_LEAVE, "病假")},
    )
    client.force_login(cast.member)
    html = client.get(reverse("study:mine")).content.decode()
    assert (
        '<strong id="my-hours">36.0</strong>' in html and "年度要求 32 学时" in html and "已达到要求" in html
    )
    client.force_login(cast.secretary_a)
    html = client.get(reverse("study:mine")).content.decode()
    assert "年度要求 56 学时" in html and "尚未达到要求" in html
    # 刘洋 36 ≥ 32, 赵敏 32 ≥ 32, 王建国 36 < 56: a count, no names, no ranking.
    assert "党员 3 人，已达到年度学时要求 <strong>2</strong> 人" in html


# --- the archive ---------------------------------------------------------------------------------


def test_it_builds_the_yearly_archive_as_one_word_file_and_a_zip(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    plan = _plan(cast, title="第一支部二〇二六年理论学习计划")
    topic = services.topic_add(actor=cast.secretary_a, plan=plan, title="学习党章", month=3)
    services.plan_update(
        actor=cast.secretary_a, plan=plan, version=plan.version + 1, summary="全年学习扎实。"
    )
    meeting = lecture(
        cast, date(2026, 3, 10), attendance={cast.person(cast.member).pk: (AttendanceStatus.ABSENT, "出差")}
    )
    services.session_link(actor=cast.secretary_a, meeting=meeting, topic=topic)
    services.makeup_record(
        cast.member, meeting.attendance.get(person=cast.person(cast.member)), "补学心得一篇。"
    )
    obs = services.observation_assign(actor=cast.committee_admin, observed_org=cast.branch_a1,
                                      observer=cast.person(cast.secretary_b), planned_on=date(2026, 3, 10))  # fmt: skip
    services.observation_summary_submit(
        actor=cast.secretary_b, observation=obs, version=obs.version, summary="列席小结。"
    )
    client.force_login(cast.secretary_a)
    response = client.get(reverse("study:archive_docx", args=[cast.branch_a1.pk, 2026]))
    assert response.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
    for text in (
        "第一支部二〇二六年理论学习计划",
        "全年学习扎实",
        "学习党章",
        "刘洋",
        "补学心得一篇",
        "列席小结",
    ):
        assert text in xml
    assert _audited("study_archive_docx", cast.branch_a1)

    empty = client.get(reverse("study:archive_zip", args=[cast.branch_a1.pk, 2026]))
    assert empty.status_code == 200 and zipfile.ZipFile(io.BytesIO(empty.content)).namelist() == []
    (tmp_path / "a.txt").write_text("学习记录", encoding="utf-8")
    StoredFile.objects.create(name="记录.txt", content_type="text/plain", size=12, sha256="0" * 64, path="a.txt",
                              owner_kind="meeting", owner_id=meeting.pk)  # fmt: skip
    full = client.get(reverse("study:archive_zip", args=[cast.branch_a1.pk, 2026]))
    assert zipfile.ZipFile(io.BytesIO(full.content)).namelist() == [f"{meeting.pk}-记录.txt"]
    assert AuditEvent.objects.filter(action="study_archive_zip").count() == 2
    assert Observation.objects.count() == 1


def test_it_guards_the_archive(client, cast):
    url = reverse("study:archive_docx", args=[cast.branch_a1.pk, 2026])
    client.force_login(cast.member)
    assert client.get(url).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("study:archive_zip", args=[cast.branch_a1.pk, 2026])).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.post(url).status_code == 405
    assert client.get(reverse("study:archive")).status_code == 200


def test_it_builds_the_archive_in_a_flat_number_of_queries(cast, django_assert_max_num_queries):
    from sizheng.study import archive

    _plan(cast)
    lecture(cast, date(2026, 3, 2))
    # The archive reads the four quarterly bulletins (a fixed ~15 queries each) besides its own.
    with django_assert_max_num_queries(90) as few:
        archive.build_docx(cast.branch_a1, 2026)
    for day in range(3, 13):
        lecture(cast, date(2026, 3, day))
    make_person("新党员", cast.unit_a, org=cast.branch_a1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        archive.build_docx(cast.branch_a1, 2026)


def test_it_creates_a_plan_for_a_study_group_besides_the_orgs_own(client, cast):
    group = services.group_create(actor=None, org=cast.committee_a, name="青年理论学习小组", kind="youth")
    _plan(cast, org=cast.committee_a, title="机关党委2026年学习计划")
    client.force_login(cast.committee_admin)
    data = {"org": cast.committee_a.pk, "year": 2026, "title": "青年小组2026年学习计划", "group": group.pk}
    assert client.post(reverse("study:plan_create"), data).status_code == 302
    assert StudyPlan.objects.get(group=group).title == "青年小组2026年学习计划"
    wrong = client.post(reverse("study:plan_create"), {**data, "org": cast.branch_a1.pk, "title": "错配"})
    assert wrong.status_code == 422 and "学习小组必须属于该党组织" in wrong.content.decode()
