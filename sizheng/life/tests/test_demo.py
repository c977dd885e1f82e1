"""The life demo: two years of meetings that follow the rules, with gaps, exemptions and appraisals."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, timedelta

import pytest
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent, Notification
from sizheng.core.rules import Period, periods_between
from sizheng.life import compliance
from sizheng.life.demo import OrgData, demo_life, plan_life
from sizheng.life.models import Appraisal, AppraisalEntry, Attendance, Exemption, Meeting
from sizheng.org.demo import demo_city
from sizheng.org.models import Org, Person

BINDS = {
    "members_meeting": {"branch"},
    "committee_meeting": {"branch"},
    "group_meeting": {"group"},
    "theme_day": {"branch"},
    "party_lecture": {"branch"},
    "life_meeting": {"branch"},
    "member_appraisal": {"branch"},
    "democratic_life_meeting": {"leading_group"},
    "central_group_study": {"leading_group"},
}
TODAY = date(2026, 11, 20)


def _orgs(n: int) -> list[OrgData]:
    """``n`` branches with a committee of three and 20 members each, and one 党组 per branch."""
    out = []
    for i in range(n):
        b = OrgData(2 * i + 1, "branch", f"支部{i}", None, date(2010, 1, 1), None, has_committee=True)
        b.members = [(1000 * i + k, k % 10 != 0, date(2000, 1, 1)) for k in range(20)]
        b.posts = [(1000 * i, "secretary", date(2020, 1, 1), None), (1000 * i + 1, "organization", date(2020, 1, 1), None),
                   (1000 * i + 2, "publicity", date(2020, 1, 1), None)]  # fmt: skip
        lg = OrgData(2 * i + 2, "leading_group", f"党组{i}", None, date(2010, 1, 1), None)
        lg.leaders = [900000 + 10 * i + k for k in range(5)]
        lg.posts = [(lg.leaders[0], "secretary", date(2020, 1, 1), None)]
        out += [b, lg]
    return out


def _plan(n: int, seed: int = 3):
    """A plan for ``n`` branches and 党组 on a plain calendar (every day a workday)."""
    return plan_life(random.Random(seed), _orgs(n), BINDS, TODAY, lambda d: d, UTC)


def test_it_plans_the_same_meetings_for_the_same_seed():
    first, again, other = _plan(6), _plan(6), _plan(6, seed=4)
    assert [(m.org_id, m.kind, m.starts_at) for m in first.meetings] == [
        (m.org_id, m.kind, m.starts_at) for m in again.meetings
    ]
    assert [(m.org_id, m.kind, m.starts_at) for m in first.meetings] != [
        (m.org_id, m.kind, m.starts_at) for m in other.meetings
    ]


def test_it_scales_the_meetings_with_the_orgs():
    small, large = len(_plan(10).meetings), len(_plan(40).meetings)
    assert 3.4 < large / small < 4.6


def test_it_plans_only_the_past_and_only_kinds_the_rules_bind():
    plan = _plan(8)
    kinds = {o.id: o.kind for o in _orgs(8)}
    assert plan.meetings
    for m in plan.meetings:
        assert date(2025, 1, 1) <= m.starts_at.date() < TODAY
        assert kinds[m.org_id] in BINDS[m.kind]
        assert m.ends_at > m.starts_at
        if m.kind == "democratic_life_meeting":
            assert (m.report_due_on - m.starts_at.date()).days == 15


def test_it_draws_about_nine_in_ten_present_and_reasons_for_the_rest():
    statuses = Counter()
    for m in _plan(10).meetings:
        for _pid, status, reason, _v, made, note in m.attendees:
            statuses[status] += 1
            assert (status == "present") == (reason == "")
            assert (made is None) == (note == "")
            assert made is None or status == "on_leave"
    total = sum(statuses.values())
    assert 0.85 < statuses["present"] / total < 0.95
    assert statuses["on_leave"] > statuses["absent"] > 0


def test_it_leaves_gaps_mostly_in_the_weak_branches():
    plan = _plan(40)
    per_org = Counter(m.org_id for m in plan.meetings if m.kind == "theme_day")
    strong = [per_org[o] for o in range(1, 80, 2) if o not in plan.weak]
    weak = [per_org[o] for o in plan.weak]
    assert weak and sum(weak) / len(weak) < 0.85 * sum(strong) / len(strong)


def _generate(scale: float = 0.1, seed: int = 5, *, counts: list | None = None) -> core_demo.DemoContext:
    """The city, then the life history, each with its own stream like ``run_all``."""
    ctx = core_demo.DemoContext(
        scale=scale, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    if counts is not None:  # audit rows and notifications before the life history
        counts += [AuditEvent.objects.count(), Notification.objects.count()]
    ctx.rng = random.Random(f"{seed}:life.history")
    demo_life(ctx)
    return ctx


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


@pytest.mark.django_db
def test_it_writes_meetings_that_follow_the_rules_without_audit_or_notifications(demo_mode):
    before: list[int] = []
    _generate(counts=before)
    audit_before, notes_before = before
    assert Meeting.objects.count() > 300
    assert AuditEvent.objects.count() == audit_before
    assert Notification.objects.count() == notes_before
    orgs = {o.pk: o for o in Org.objects.all()}
    for kind, org_kind in Meeting.objects.values_list("kind", "org__kind").distinct():
        assert org_kind in BINDS[kind], (kind, org_kind)
    leaders = {p.pk: p.unit_id for p in Person.objects.filter(is_leader=True)}
    units = {}
    for org_id, unit_id in Org.units.through.objects.values_list("org_id", "unit_id"):
        units.setdefault(org_id, set()).add(unit_id)
    person_org = dict(Person.objects.values_list("pk", "org_id"))
    rows = Attendance.objects.values_list("person_id", "meeting__org_id", "meeting__kind")
    for pid, org_id, kind in rows:
        org = orgs[org_id]
        if org.kind == Org.Kind.LEADING_GROUP:
            assert leaders.get(pid) in units[org_id]
        elif kind == "committee_meeting":
            assert org.roles.filter(person_id=pid).exists()
        else:  # the org's subtree; a 党小组's members stay on its branch's roll
            home = orgs[person_org[pid]] if person_org[pid] else None
            root = orgs[org.parent_id] if org.kind == Org.Kind.GROUP else org
            assert (
                home is not None
                and home.path.startswith(root.path)
                or org.roles.filter(person_id=pid).exists()
            )


@pytest.mark.django_db
def test_it_keeps_excellent_within_a_third_unless_flagged_with_a_reason(demo_mode):
    _generate()
    approved = Appraisal.objects.filter(state="approved")
    assert approved.count() >= 3
    flagged = 0
    for a in approved:
        grades = Counter(AppraisalEntry.objects.filter(appraisal=a).values_list("final_grade", flat=True))
        n = sum(grades.values())
        if grades["excellent"] * 3 > n:
            assert a.is_flagged and a.excellent_reason
            flagged += 1
        else:
            assert not a.is_flagged
    assert flagged >= 1
    share = (
        AppraisalEntry.objects.filter(final_grade="excellent").count()
        / AppraisalEntry.objects.filter(appraisal__state="approved").count()
    )
    assert 0.12 < share < 0.36


@pytest.mark.django_db
def test_it_gives_the_heatmap_met_warning_and_exempt_cells(demo_mode):
    ctx = _generate(scale=0.2)
    today = timezone.localdate()
    periods = []
    for kind in ("month", "quarter", "year"):
        periods += list(periods_between(kind, date(today.year - 1, 1, 1), today))
    matrix = compliance.evaluate(Org.objects.all(), periods)
    statuses = Counter(o.status for o in matrix.outcomes.values())
    assert statuses["met"] > 5 * statuses["warning"] > 0
    assert statuses["exempt"] > 0 and Exemption.objects.exists()
    assert (
        Meeting.objects.filter(state="returned").exists() and Meeting.objects.filter(state="draft").exists()
    )
    # shuji_a's branch: a full record but for one visible gap (last month's 支委会); shuji_b's is weaker.
    branch = dict(
        Person.objects.filter(pk__in=ctx.shared["demo_person_ids"].values()).values_list("pk", "org_id")
    )
    a = branch[ctx.shared["demo_person_ids"]["shuji_a"]]
    b = branch[ctx.shared["demo_person_ids"]["shuji_b"]]
    gaps_a = [k for k, o in matrix.outcomes.items() if k[0] == a and o.status in ("warning", "violation")]
    gaps_b = [k for k, o in matrix.outcomes.items() if k[0] == b and o.status in ("warning", "violation")]
    last_key = Period.containing("month", date(today.year, today.month, 1) - timedelta(days=1)).key
    assert (a, "BR-MTG-2", last_key) in gaps_a
    assert len(gaps_a) <= 3 < len(gaps_b)


@pytest.mark.django_db
def test_it_adds_nothing_when_run_twice(demo_mode):
    ctx = _generate()
    counts = (
        Meeting.objects.count(),
        Attendance.objects.count(),
        Appraisal.objects.count(),
        Exemption.objects.count(),
    )
    demo_life(ctx)
    assert counts == (Meeting.objects.count(), Attendance.objects.count(), Appraisal.objects.count(),
                      Exemption.objects.count())  # fmt: skip
