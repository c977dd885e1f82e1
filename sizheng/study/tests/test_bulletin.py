"""The 学习情况通报: figures, the Word file's title and four sections, access and audit."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.models import AuditEvent
from sizheng.core.rules import Period
from sizheng.life.models import AttendanceStatus, MeetingKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org, make_person
from sizheng.study import bulletin, services
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
Q3 = Period.parse("2026-Q3")


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 10, 10), tick=False):
        yield


def _text(data: bytes) -> str:
    """All paragraph and table text of a .docx."""
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.fixture
def studied(cast):
    """Q3 2026: branch A1 held a 党课 on a plan topic (the member on leave) and skipped a second topic;
    the 党组 held one central-group session with the leader's keynote; one observer loop is late."""
    plan = services.plan_create(actor=cast.secretary_a, org=cast.branch_a1, year=2026, title="学习计划")
    done = services.topic_add(actor=cast.secretary_a, plan=plan, title="学习党章党规", month=8)
    services.topic_add(actor=cast.secretary_a, plan=plan, title="学习党史", month=9)
    services.topic_add(actor=cast.secretary_a, plan=plan, title="年底专题", month=12)
    member = cast.person(cast.member)
    m = lecture(cast, date(2026, 8, 5), attendance={member.pk: (AttendanceStatus.ON_LEAVE, "出差")})
    services.session_link(actor=cast.secretary_a, meeting=m, topic=done)
    cgs = lecture(cast, date(2026, 9, 2), kind=MeetingKind.CENTRAL_GROUP_STUDY, org=cast.leading_a,
                  topic="深入学习贯彻党的二十届四中全会精神")  # fmt: skip
    services.session_link(
        actor=cast.committee_admin, meeting=cgs, keynote_speakers=[cast.person(cast.leader)]
    )
    services.observation_assign(actor=cast.committee_admin, observed_org=cast.leading_a,
                                observer=cast.person(cast.secretary_b), planned_on=date(2026, 9, 2))  # fmt: skip
    return {"member": member}


def test_it_counts_sessions_topics_attendance_and_problems_per_org(cast, studied):
    b = bulletin.bulletin_data(cast.root, Q3)
    rows = {r.org.pk: r for r in b.rows}
    a1, lg = rows[cast.branch_a1.pk], rows[cast.leading_a.pk]
    assert (a1.sessions, a1.topics_planned, a1.topics_covered) == (1, 2, 1)
    assert a1.present == a1.expected - 1  # the member was on leave
    # The quarter's session keeps CGS-2; one session by Q3 is behind the yearly 6's pro-rata 5.
    assert (lg.cgs_held, lg.cgs_required) == (1, 1)
    assert lg.cgs_behind == ["中心组学习每年不少于6次（本地规则）"]
    assert lg.observations_late == 1  # materials never sent, summary overdue
    assert a1.below_hours == a1.members  # 4 hours by Q3 is below 3/4 of 32 for everyone
    assert b.by_kind == {"党课": 1, "中心组学习": 1}
    assert b.keynotes_by_role == {"领导班子成员": 1} and b.keynote_speakers == 1
    assert rows[cast.branch_c.pk].sessions == 0


def test_it_flags_a_leading_group_without_central_group_study(cast):
    b = bulletin.bulletin_data(cast.root, Q3)
    lg = next(r for r in b.rows if r.org.pk == cast.leading_a.pk)
    assert lg.cgs_held == 0 and lg.cgs_behind
    assert "1个党组织未达到中心组学习次数要求" in "\n".join(bulletin._problems(b))


def test_it_writes_the_title_and_the_four_sections(cast, studied):
    data = bulletin.build_docx(bulletin.bulletin_data(cast.root, Q3))
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    text = _text(data)
    assert "关于2026年第三季度理论学习情况的通报" in text
    for heading in ("一、总体情况", "二、主要做法", "三、存在问题", "四、下一步工作"):
        assert heading in text
    assert "出勤率" in text and "“学习党章党规”" in text and "领导班子成员1人次" in text
    assert studied["member"].name not in text  # counts per org, never people


def test_it_reads_in_a_number_of_queries_flat_in_the_number_of_orgs(cast, studied):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            bulletin.bulletin_data(cast.root, Q3)
        return len(ctx.captured_queries)

    before = count()
    for i in range(4):
        org = make_org(f"新支部{i}", Org.Kind.BRANCH, cast.root, f"NB{i}")
        make_person(f"新党员{i}", cast.unit_c, org=org)
        lecture(cast, date(2026, 7, 6 + i), org=org)
    assert count() == before


@given(year=st.integers(2000, 2100), quarter=st.integers(0, 4), month=st.integers(1, 12))
def test_it_parses_every_quarter_and_year_key_back_to_itself_and_no_month(year, quarter, month):
    key = f"{year}-Q{quarter}" if quarter else str(year)
    period = bulletin.parse_period(key)
    assert period.key == key and period.kind in bulletin.BULLETIN_KINDS
    with pytest.raises(ValueError):
        bulletin.parse_period(f"{year}-{month:02d}")


def test_it_rejects_months_and_half_years_as_periods():
    with pytest.raises(ValueError):
        bulletin.parse_period("2026-07")
    with pytest.raises(ValueError):
        bulletin.parse_period("2026-H1")
    assert bulletin.parse_period("2026").kind == "year"


# --- the view ------------------------------------------------------------------------------------


def _url(org, key="2026-Q3"):
    return reverse("study:bulletin_docx", args=[org.pk, key])


def test_it_serves_the_bulletin_to_a_manager_with_an_audit_row(client, cast, studied):
    client.force_login(cast.committee_admin)
    response = client.get(_url(cast.root, "2026"))
    assert response.status_code == 200
    assert "关于2026年度理论学习情况的通报" in _text(response.content)
    assert AuditEvent.objects.filter(action="study_bulletin_export", object_id=str(cast.root.pk)).exists()
    client.force_login(cast.secretary_a)
    assert client.get(_url(cast.branch_a1)).status_code == 200


def test_it_answers_404_to_outsiders_403_to_read_only_users_and_405_to_posts(client, cast):
    client.force_login(cast.outsider)
    assert client.get(_url(cast.branch_a1)).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(_url(cast.committee_a)).status_code == 404  # above the secretary's scope
    assert client.post(_url(cast.branch_a1)).status_code == 405
    assert client.get(f"/study/bulletin/{cast.branch_a1.pk}/2026-07.docx").status_code == 404
    client.force_login(cast.member)
    assert client.get(_url(cast.branch_a1)).status_code == 403
    assert not AuditEvent.objects.filter(action="study_bulletin_export").exists()
