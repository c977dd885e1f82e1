"""Speaking outlines, papers and research reports: submit, file access, checklist and counts, archive."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from sizheng.core import files
from sizheng.core.models import AuditEvent
from sizheng.life.models import MeetingKind
from sizheng.study import archive, services
from sizheng.study.models import StudyGroup, StudyPaper
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
OUTLINE = "一、深刻领会全会精神\n二、结合预算工作抓好落实"


@pytest.fixture
def _today(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


BODY = "学习党的创新理论的体会。".encode()


def _upload(name="心得.txt", body=BODY):
    return SimpleUploadedFile(name, body, content_type="text/plain")


def _submit(cast, actor=None, person=None, **fields):
    data = {"year": 2026, "kind": StudyPaper.Kind.PAPER, "title": "学习心得", "text": "正文"}
    data.update(fields)
    return services.paper_submit(actor or cast.member, person=person or cast.person(cast.member), **data)


def test_it_lets_the_author_and_their_secretary_submit_with_an_audit_row(cast):
    own = _submit(cast, kind=StudyPaper.Kind.OUTLINE, text=OUTLINE)
    assert own.submitted_on == date(2026, 11, 20) and own.text == OUTLINE
    assert AuditEvent.objects.filter(action="study_paper_submit", object_id=str(own.pk)).exists()
    by_secretary = _submit(cast, actor=cast.secretary_a, title="调研报告", kind=StudyPaper.Kind.REPORT)
    assert by_secretary.person == cast.person(cast.member)
    with pytest.raises(PermissionDenied):
        _submit(cast, actor=cast.leader)  # a leader of the unit is not the member's 书记
    with pytest.raises(PermissionDenied):
        _submit(cast, actor=cast.secretary_b)


def test_it_refuses_a_paper_without_text_or_file_and_a_wrong_kind(cast):
    with pytest.raises(ValidationError) as exc:
        _submit(cast, text="   ", kind="poem", title="")
    assert set(exc.value.message_dict) == {"text", "kind", "title"}
    assert not StudyPaper.objects.exists()


def test_it_stores_the_file_readable_by_the_author_and_the_managers_only(cast):
    paper = _submit(cast, text="", upload=_upload())
    assert paper.file.owner_kind == "study_paper" and paper.file.owner_id == paper.pk
    stored = paper.file
    assert files.may_read(cast.member, stored)
    assert files.may_read(cast.secretary_a, stored) and files.may_read(cast.committee_admin, stored)
    assert not files.may_read(cast.leader, stored)
    assert not files.may_read(cast.outsider, stored)


def test_it_checks_keynote_given_and_paper_submitted_per_person(cast):
    member, leader = cast.person(cast.member), cast.person(cast.leader)
    meeting = lecture(cast, date(2026, 9, 2), kind=MeetingKind.CENTRAL_GROUP_STUDY)
    services.session_link(actor=cast.secretary_a, meeting=meeting, keynote_speakers=[leader])
    _submit(cast, kind=StudyPaper.Kind.OUTLINE)  # an outline is not the paper
    assert services.writing_status([member.pk, leader.pk], 2026) == {
        member.pk: {"keynote": False, "paper": False},
        leader.pk: {"keynote": True, "paper": False},
    }
    _submit(cast, kind=StudyPaper.Kind.REPORT)
    assert services.writing_counts([member.pk, leader.pk], 2026) == {"total": 2, "keynote": 1, "paper": 1}
    assert services.writing_counts([member.pk, leader.pk], 2025) == {"total": 2, "keynote": 0, "paper": 0}


# --- the page ------------------------------------------------------------------------------------

URL = "/study/papers/"


def test_it_shows_the_member_a_checklist_and_the_secretary_counts(client, cast):
    assert reverse("study:papers") == URL
    group = services.group_create(actor=cast.secretary_a, org=cast.branch_a1, name="中心组",
                                  kind=StudyGroup.Kind.CENTRAL)  # fmt: skip
    for user in (cast.member, cast.secretary_a):
        services.group_member_add(actor=cast.secretary_a, group=group, person=cast.person(user))
    _submit(cast)
    client.force_login(cast.member)
    page = client.get(URL).content.decode()
    assert "我的年度任务" in page and "撰写心得文章或调研报告 1 篇" in page
    assert "成员 2 人" not in page
    client.force_login(cast.secretary_a)
    page = client.get(URL).content.decode()
    assert (
        "成员 2 人，已作主旨发言 <strong>0</strong> 人，已提交心得文章或调研报告 <strong>1</strong> 人"
        in page
    )
    assert "学习心得" in page


def test_it_submits_from_the_page_with_a_file(client, cast):
    client.force_login(cast.member)
    data = {"person": cast.person(cast.member).pk, "year": 2026, "kind": "paper", "title": "全会精神学习体会",
            "text": "", "on": "2026-11-19", "upload": _upload()}  # fmt: skip
    response = client.post(URL, data)
    assert response.status_code == 302 and response["Location"] == f"{URL}?year=2026"
    paper = StudyPaper.objects.get()
    assert paper.title == "全会精神学习体会" and paper.file is not None
    assert AuditEvent.objects.filter(action="study_paper_submit", object_id=str(paper.pk)).exists()
    assert client.get(reverse("core:file", args=[paper.file.uid])).status_code == 200
    client.force_login(cast.outsider)
    assert client.get(reverse("core:file", args=[paper.file.uid])).status_code == 404


def test_it_answers_422_with_the_message_405_and_403(client, cast):
    client.force_login(cast.member)
    data = {"person": cast.person(cast.member).pk, "year": 2026, "kind": "paper", "title": "体会", "text": "",
            "on": "2026-11-19"}  # fmt: skip
    response = client.post(URL, data)
    assert response.status_code == 422 and "请填写正文或上传文件" in response.content.decode()
    bad = client.post(URL, {**data, "text": "正文", "upload": _upload("x.exe", b"MZ\x90\x00")})
    assert bad.status_code == 422 and "不支持上传 .exe 文件" in bad.content.decode()
    other = client.post(URL, {**data, "text": "正文", "person": cast.person(cast.leader).pk})
    assert other.status_code == 422  # not someone the member may submit for
    assert client.put(URL).status_code == 405
    client.force_login(cast.auditor)  # no roster person, no 书记 post
    assert client.post(URL, {**data, "text": "正文"}).status_code == 403
    assert not StudyPaper.objects.exists()


def test_it_keeps_the_page_queries_flat(client, cast, django_assert_max_num_queries):
    client.force_login(cast.secretary_a)
    _submit(cast)
    with django_assert_max_num_queries(40) as few:
        client.get(URL)
    for i in range(5):
        _submit(cast, title=f"文章{i}", upload=_upload())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


# --- the archive ---------------------------------------------------------------------------------


def test_it_puts_papers_outlines_and_bulletin_figures_in_the_archive(cast):
    _submit(cast, kind=StudyPaper.Kind.OUTLINE, title="发言提纲：全会精神", text=OUTLINE)
    _submit(cast, title="心得文章一篇", text="", upload=_upload())
    lecture(cast, date(2026, 8, 5))
    doc = Document(io.BytesIO(archive.build_docx(cast.branch_a1, 2026)))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows
                                                         for c in r.cells])  # fmt: skip
    assert "学习情况通报" in text and "2026年第三季度" in text and "2026年第四季度" in text
    assert "发言提纲和学习文章" in text and "心得文章一篇" in text and "刘洋" in text
    assert "二、结合预算工作抓好落实" in text
    names = zipfile.ZipFile(io.BytesIO(archive.build_zip(cast.branch_a1, 2026))).namelist()
    assert any(n.endswith("心得.txt") for n in names)
