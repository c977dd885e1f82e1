"""The 列席旁听 loop: materials 5 workdays before, the summary (≤ 500 characters) 10 workdays after."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from sizheng.core.models import AuditEvent, Holiday
from sizheng.study import services
from sizheng.study.models import Observation

pytestmark = pytest.mark.django_db

SESSION_DAY = date(2026, 10, 9)  # a Friday right after the National Day holiday


def _holidays_2027() -> None:
    """Two administrator-entered days off in a year chinesecalendar does not cover."""
    for d in (date(2027, 3, 8), date(2027, 3, 15)):
        Holiday.objects.create(day=d, kind=Holiday.Kind.HOLIDAY, name="地方假日")


def _assign(cast, day=SESSION_DAY) -> Observation:
    return services.observation_assign(
        actor=cast.committee_admin,
        observed_org=cast.leading_a,
        observer=cast.person(cast.secretary_b),
        planned_on=day,
    )


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_counts_the_deadlines_in_workdays_across_the_national_day_holiday(cast):
    obs = _assign(cast)
    # Before Friday Oct 9: Oct 8, then Sep 30, 29, 28 and — past the Mid-Autumn days — Sep 24.
    assert obs.materials_due_on == date(2026, 9, 24)
    # After: the 调休 Saturday Oct 10, Oct 12–16 and Oct 19–22.
    assert obs.summary_due_on == date(2026, 10, 22)
    assert AuditEvent.objects.filter(action="study_observation_assign", object_id=str(obs.pk)).exists()


@time_machine.travel(date(2027, 2, 1), tick=False)
def test_it_applies_the_administrators_holiday_table(cast):
    plain = _assign(cast, date(2027, 3, 10))
    assert (plain.materials_due_on, plain.summary_due_on) == (date(2027, 3, 3), date(2027, 3, 24))
    _holidays_2027()
    shifted = services.observation_assign(
        actor=cast.committee_admin, observed_org=cast.leading_a, observer=cast.person(cast.member),
        planned_on=date(2027, 3, 10),
    )  # fmt: skip
    assert (shifted.materials_due_on, shifted.summary_due_on) == (date(2027, 3, 2), date(2027, 3, 25))


def test_it_warns_on_both_sides_when_late(cast):
    with time_machine.travel(date(2026, 9, 1), tick=False):
        obs = _assign(cast)
    codes = lambda today: {w.code for w in services.observation_warnings(obs, today)}  # noqa: E731
    assert codes(date(2026, 9, 1)) == set()
    assert codes(date(2026, 9, 22)) == {"materials_soon"}
    assert codes(date(2026, 9, 28)) == {"materials_overdue"}
    with time_machine.travel(date(2026, 9, 29), tick=False):
        services.observation_materials_sent(actor=cast.committee_admin, observation=obs, version=obs.version)
    assert codes(date(2026, 10, 12)) == {"materials_late"}
    assert codes(date(2026, 10, 23)) == {"materials_late", "summary_overdue"}
    with time_machine.travel(date(2026, 10, 26), tick=False):
        services.observation_summary_submit(
            actor=cast.secretary_b, observation=obs, version=obs.version, summary="列席学习，收获很大。"
        )
    assert codes(date(2026, 10, 26)) == {"materials_late", "summary_late"}


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_accepts_500_characters_and_refuses_501(cast):
    obs = _assign(cast)
    with pytest.raises(ValidationError) as exc:
        services.observation_summary_submit(actor=cast.secretary_b, observation=obs, version=obs.version,
                                            summary="学" * 501)  # fmt: skip
    assert "不能超过 500 字，当前为 501 字" in str(exc.value)
    obs.refresh_from_db()
    assert obs.summary == "" and obs.summary_submitted_on is None
    services.observation_summary_submit(
        actor=cast.secretary_b, observation=obs, version=obs.version, summary="\n" + "学" * 500 + "\n"
    )
    obs.refresh_from_db()
    assert len(obs.summary) == 500 and obs.summary_submitted_on == date(2026, 9, 1)


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_shows_the_limit_on_the_summary_form_with_422(client, cast):
    obs = _assign(cast)
    client.force_login(cast.secretary_b)
    url = reverse("study:observation_summary", args=[obs.pk])
    response = client.post(url, {"summary": "学" * 501, "version": obs.version})
    assert response.status_code == 422
    assert "列席情况小结不能超过 500 字，当前为 501 字" in response.content.decode()
    response = client.post(url, {"summary": "认真听取了中心组的学习发言。", "version": obs.version})
    assert response.status_code == 302
    obs.refresh_from_db()
    assert obs.summary == "认真听取了中心组的学习发言。"
    assert AuditEvent.objects.filter(action="study_observation_summary", object_id=str(obs.pk)).exists()
    assert client.get(url).status_code == 405


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_lets_only_the_observer_submit_and_only_the_observed_side_record_materials(client, cast):
    obs = _assign(cast)
    client.force_login(cast.committee_admin)  # sees everything, but is not the observer
    response = client.post(
        reverse("study:observation_summary", args=[obs.pk]), {"summary": "x", "version": 1}
    )
    assert response.status_code == 403
    client.force_login(cast.secretary_b)  # the observer, not on the observed side
    response = client.post(
        reverse("study:observation_materials", args=[obs.pk]), {"on": "2026-09-01", "version": 1}
    )
    assert response.status_code == 403
    client.force_login(cast.committee_admin)
    response = client.post(
        reverse("study:observation_materials", args=[obs.pk]), {"on": "2026-09-01", "version": 1}
    )
    assert response.status_code == 302
    obs.refresh_from_db()
    assert obs.materials_sent_on == date(2026, 9, 1)
    stale = client.post(
        reverse("study:observation_materials", args=[obs.pk]), {"on": "2026-09-01", "version": 1}
    )
    assert stale.status_code == 409


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_hides_observations_from_outsiders_with_404(client, cast):
    obs = _assign(cast)
    client.force_login(cast.outsider)
    assert client.get(reverse("study:observation_detail", args=[obs.pk])).status_code == 404
    response = client.post(
        reverse("study:observation_summary", args=[obs.pk]), {"summary": "x", "version": 1}
    )
    assert response.status_code == 404
    listing = client.get(reverse("study:observations")).content.decode()
    assert "李红梅" not in listing and "还没有列席旁听安排" in listing


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_lists_observations_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    _assign(cast)
    url = reverse("study:observations")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for i in range(1, 12):
        _assign(cast, SESSION_DAY + timedelta(days=7 * i))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("study/observations/") >= 12


@time_machine.travel(date(2026, 9, 1), tick=False)
def test_it_creates_an_observation_through_the_form(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("study:observation_create")
    assert client.get(url).status_code == 200
    data = {
        "observed_org": cast.leading_a.pk,
        "observer": cast.person(cast.secretary_b).pk,
        "planned_on": "2026-10-09",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    obs = Observation.objects.get()
    assert obs.materials_due_on == date(2026, 9, 24)
    assert client.post(url, {**data, "planned_on": ""}).status_code == 422
    client.force_login(cast.member)
    assert client.post(url, data).status_code == 403
