"""Volunteer activities through the screens: planning, sign-up, withdrawal, attendance confirmation,
cancelling and attachments — response, database and audit row for each write; 404 outside scope, 403
read-only, 405 wrong method, 409 stale or closed, 422 bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sizheng.core.models import Notification
from sizheng.volunteer import services
from sizheng.volunteer.models import Activity, ActivityState, Signup, SignupStatus
from sizheng.volunteer.tests.helpers import NOW, START, activity, after, audited, campaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_now")]


@pytest.fixture
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _url(name: str, *args) -> str:
    return reverse(f"volunteer:{name}", args=args)


def _signup_of(cast, act, user) -> Signup:
    return Signup.objects.get(activity=act, person=cast.person(user))


# --- planning ------------------------------------------------------------------------------------


def test_it_plans_an_activity_with_audit_and_refuses_bad_input(client, cast):
    client.force_login(cast.secretary_a)
    url = _url("activity_create")
    assert client.get(url).status_code == 200
    data = {
        "org": cast.branch_a1.pk, "campaign": campaign().pk, "title": "植树护绿", "place": "滨江绿道",
        "starts_at": "2026-03-20T09:00", "ends_at": "2026-03-20T11:30", "planned_hours": "2.5", "open_now": "on",
    }  # fmt: skip
    response = client.post(url, data)
    act = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("activity_detail", act.pk)
    assert (
        act.state == ActivityState.OPEN and act.planned_hours == Decimal("2.5") and act.org == cast.branch_a1
    )
    assert audited("volunteer_activity_create", act)
    bad = client.post(url, {**data, "ends_at": "2026-03-20T08:00"})
    assert bad.status_code == 422 and "结束时间必须晚于开始时间" in bad.content.decode()
    too_long = client.post(url, {**data, "planned_hours": "5"})
    assert (
        too_long.status_code == 422
        and "计划服务时长不能超过活动开始到结束的时间" in too_long.content.decode()
    )
    # An org the secretary does not manage is not a choice at all.
    assert client.post(url, {**data, "org": cast.branch_b1.pk}).status_code == 422
    assert Activity.objects.count() == 1


def test_it_forbids_planning_and_editing_to_people_who_do_not_manage(client, cast):
    act = activity(cast)
    client.force_login(cast.member)
    assert client.get(_url("activity_create")).status_code == 403
    assert client.get(_url("activity_detail", act.pk)).status_code == 200
    assert client.get(_url("activity_edit", act.pk)).status_code == 403
    assert (
        client.post(_url("activity_transition", act.pk), {"action": "finish", "version": 1}).status_code
        == 403
    )
    client.force_login(cast.outsider)
    for name in ("activity_detail", "activity_edit", "activity_confirm"):
        assert client.get(_url(name, act.pk)).status_code == 404
    assert client.post(_url("signup", act.pk)).status_code == 404
    assert act.title not in client.get(_url("activities")).content.decode()


def test_it_edits_with_a_version_and_answers_409_when_stale(client, cast):
    act = activity(cast)
    client.force_login(cast.secretary_a)
    url = _url("activity_edit", act.pk)
    assert client.get(url).status_code == 200
    data = {"campaign": act.campaign_id, "title": "文明交通劝导（第二期）", "place": act.place,
            "starts_at": "2026-03-17T09:00", "ends_at": "2026-03-17T12:00", "planned_hours": "3",
            "version": act.version}  # fmt: skip
    assert client.post(url, data).status_code == 302
    act.refresh_from_db()
    assert act.title == "文明交通劝导（第二期）" and act.version == 2
    assert audited("volunteer_activity_update", act)
    stale = client.post(url, {**data, "title": "又改了"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    act.refresh_from_db()
    assert act.title == "文明交通劝导（第二期）"


# --- sign-up and withdrawal ----------------------------------------------------------------------


def test_it_signs_up_withdraws_with_confirmation_and_signs_up_again(client, cast):
    act = activity(cast, capacity=5)
    client.force_login(cast.member)
    response = client.post(_url("signup", act.pk))
    assert response.status_code == 302
    signup = _signup_of(cast, act, cast.member)
    act.refresh_from_db()
    assert signup.status == SignupStatus.SIGNED_UP and act.seats_taken == 1
    assert audited("volunteer_signup", signup)
    assert client.post(_url("signup", act.pk)).status_code == 409  # already signed up
    withdraw = _url("signup_withdraw", signup.pk)
    unconfirmed = client.post(withdraw, {"version": signup.version})
    assert unconfirmed.status_code == 422 and "请先勾选确认" in unconfirmed.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.SIGNED_UP
    assert client.post(withdraw, {"version": signup.version, "confirm": "on"}).status_code == 302
    signup.refresh_from_db()
    act.refresh_from_db()
    assert signup.status == SignupStatus.WITHDRAWN and act.seats_taken == 0
    assert audited("volunteer_signup_withdraw", signup)
    assert client.post(_url("signup", act.pk)).status_code == 302
    signup.refresh_from_db()
    assert signup.status == SignupStatus.SIGNED_UP and Signup.objects.filter(activity=act).count() == 1


def test_it_refuses_sign_up_when_full_not_open_or_started(client, cast):
    full = activity(cast, capacity=1)
    client.force_login(cast.member)
    assert client.post(_url("signup", full.pk)).status_code == 302
    client.force_login(cast.secretary_a)
    response = client.post(_url("signup", full.pk))
    assert response.status_code == 409 and "名额已满" in response.content.decode()
    planned = activity(cast, open_now=False, title="计划中的活动")
    response = client.post(_url("signup", planned.pk))
    assert response.status_code == 409 and "不接受报名" in response.content.decode()
    soon = activity(cast, title="马上开始")
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        client.force_login(cast.secretary_a)  # a jump in time ends the idle session
        response = client.post(_url("signup", soon.pk))
        assert response.status_code == 409 and "已经开始" in response.content.decode()
    assert not Signup.objects.filter(person=cast.person(cast.secretary_a)).exists()


def test_it_answers_403_to_a_viewer_the_activity_is_not_open_to(client, cast):
    act = activity(cast)  # branch A1's; the leader belongs to branch A2 and sees unit A's orgs
    client.force_login(cast.leader)
    assert client.get(_url("activity_detail", act.pk)).status_code == 200
    assert client.post(_url("signup", act.pk)).status_code == 403
    assert not Signup.objects.exists()


def test_it_opens_activities_of_the_org_above_to_members_below(client, cast):
    act = activity(cast, org=cast.committee_a, actor=cast.committee_admin)
    client.force_login(cast.member)  # branch A1, under committee A
    assert client.post(_url("signup", act.pk)).status_code == 302
    client.force_login(cast.secretary_b)  # branch B1: not under committee A, not in scope
    assert client.get(_url("activity_detail", act.pk)).status_code == 404


def test_it_refuses_withdrawal_after_the_start_and_someone_elses_sign_up(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    signup = _signup_of(cast, act, cast.member)
    client.force_login(cast.secretary_a)
    assert client.post(_url("signup_withdraw", signup.pk), {"version": 1, "confirm": "on"}).status_code == 404
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        client.force_login(cast.member)
        response = client.post(_url("signup_withdraw", signup.pk), {"version": 1, "confirm": "on"})
        assert response.status_code == 409 and "已经开始" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.SIGNED_UP


def test_it_answers_405_to_the_wrong_method(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    signup = _signup_of(cast, act, cast.member)
    client.force_login(cast.secretary_a)
    assert client.get(_url("signup", act.pk)).status_code == 405
    assert client.get(_url("signup_withdraw", signup.pk)).status_code == 405
    assert client.get(_url("activity_transition", act.pk)).status_code == 405
    assert client.get(_url("activity_attach", act.pk)).status_code == 405
    assert client.put(_url("activity_confirm", act.pk)).status_code == 405


# --- confirmation --------------------------------------------------------------------------------


def _confirm_data(act, rows: dict, version=None) -> dict:
    data = {"version": act.version if version is None else version}
    for s, (status, hours) in rows.items():
        data[f"s{s.pk}_status"] = status
        data[f"s{s.pk}_hours"] = hours
    return data


def test_it_confirms_attendance_and_hours_only_after_the_activity(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    services.signup_create(actor=cast.org_admin, activity=act)
    mine, theirs = _signup_of(cast, act, cast.member), _signup_of(cast, act, cast.org_admin)
    client.force_login(cast.secretary_a)
    url = _url("activity_confirm", act.pk)
    early = client.post(url, _confirm_data(act, {mine: ("attended", "3"), theirs: ("absent", "")}))
    assert early.status_code == 409 and "活动结束后才能确认" in early.content.decode()
    with time_machine.travel(after(act), tick=False):
        client.force_login(cast.secretary_a)
        page = client.get(url)
        assert page.status_code == 200 and "刘洋" in page.content.decode()
        response = client.post(url, _confirm_data(act, {mine: ("attended", "2.5"), theirs: ("absent", "")}))
        assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    act.refresh_from_db()
    assert (mine.status, mine.hours) == (SignupStatus.ATTENDED, Decimal("2.5"))
    assert (theirs.status, theirs.hours) == (SignupStatus.ABSENT, None)
    assert mine.confirmed_by == cast.secretary_a and act.state == ActivityState.DONE and act.version == 2
    assert audited("volunteer_attendance_confirm", act)


def test_it_rejects_bad_hours_and_stale_confirmations(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    mine = _signup_of(cast, act, cast.member)
    url = _url("activity_confirm", act.pk)
    with time_machine.travel(after(act), tick=False):
        client.force_login(cast.secretary_a)
        over = client.post(url, _confirm_data(act, {mine: ("attended", "3.5")}))
        assert over.status_code == 422 and "不能超过活动开始到结束的时间" in over.content.decode()
        missing = client.post(url, _confirm_data(act, {mine: ("attended", "")}))
        assert missing.status_code == 422 and "请填写刘洋的服务时长" in missing.content.decode()
        assert client.post(url, _confirm_data(act, {mine: ("attended", "3")})).status_code == 302
        stale = client.post(url, _confirm_data(act, {mine: ("absent", "")}, version=1))
        assert stale.status_code == 409
    mine.refresh_from_db()
    assert (mine.status, mine.hours) == (SignupStatus.ATTENDED, Decimal("3.0"))


def test_it_lets_only_the_organiser_confirm(client, cast):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    with time_machine.travel(after(act), tick=False):
        client.force_login(cast.member)
        assert client.get(_url("activity_confirm", act.pk)).status_code == 403
        client.force_login(cast.secretary_b)
        assert client.get(_url("activity_confirm", act.pk)).status_code == 404
    assert not Signup.objects.filter(status=SignupStatus.ATTENDED).exists()


def test_it_never_takes_self_reported_hours():
    # Signing up takes no hours at all: the only way to hours is the organiser's confirmation.
    import inspect

    assert "hours" not in inspect.signature(services.signup_create).parameters
    assert "hours" not in inspect.signature(services.signup_withdraw).parameters


# --- cancelling and attachments ------------------------------------------------------------------


def test_it_cancels_with_a_reason_and_confirmation_and_tells_those_signed_up(
    client, cast, django_capture_on_commit_callbacks
):
    act = activity(cast)
    services.signup_create(actor=cast.member, activity=act)
    client.force_login(cast.secretary_a)
    url = _url("activity_transition", act.pk)
    bare = client.post(url, {"action": "cancel", "version": act.version})
    assert bare.status_code == 422
    assert "请填写取消活动的原因" in bare.content.decode() and "请先勾选确认" in bare.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            url, {"action": "cancel", "version": act.version, "reason": "天气原因", "confirm": "on"}
        )
    assert done.status_code == 302
    act.refresh_from_db()
    assert act.state == ActivityState.CANCELLED and act.cancel_reason == "天气原因"
    assert audited("volunteer_activity_cancel", act)
    note = Notification.objects.get(user=cast.member)
    assert act.title in note.title
    again = client.post(url, {"action": "open", "version": act.version})
    assert again.status_code == 409


def test_it_attaches_an_optional_file_readable_within_scope(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    act = activity(cast)
    client.force_login(cast.secretary_a)
    upload = SimpleUploadedFile(
        "活动方案.txt", "活动方案：集合时间8:30。".encode(), content_type="text/plain"
    )
    assert client.post(_url("activity_attach", act.pk), {"upload": upload}).status_code == 302
    act.refresh_from_db()
    assert act.attachment is not None and audited("volunteer_activity_attach", act)
    file_url = reverse("core:file", args=[act.attachment.uid])
    client.force_login(cast.member)
    assert client.get(file_url).status_code == 200
    client.force_login(cast.outsider)
    assert client.get(file_url).status_code == 404
    client.force_login(cast.secretary_a)
    bad = SimpleUploadedFile("x.exe", b"MZ\x00\x00", content_type="application/octet-stream")
    assert client.post(_url("activity_attach", act.pk), {"upload": bad}).status_code == 422
