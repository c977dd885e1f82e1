"""The study demo: plans per 党组 and unit org, central-group sessions, youth groups and observers."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent
from sizheng.life.demo import demo_life
from sizheng.life.models import Meeting
from sizheng.org.demo import demo_city
from sizheng.org.models import Org
from sizheng.study import services
from sizheng.study.demo import _topic_list, demo_study
from sizheng.study.models import Observation, StudyGroup, StudyPlan, StudySession, StudyTopic


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


def _generate(scale: float = 0.1, seed: int = 5) -> tuple[core_demo.DemoContext, int]:
    """City, life and study, each with its own stream like ``run_all``; returns the audit count before study."""
    ctx = core_demo.DemoContext(
        scale=scale, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    ctx.rng = random.Random(f"{seed}:life.history")
    demo_life(ctx)
    audit = AuditEvent.objects.count()
    ctx.rng = random.Random(f"{seed}:study.history")
    demo_study(ctx)
    return ctx, audit


def test_it_keeps_the_held_themes_and_pads_to_eight_to_twelve_topics():
    held = [("甲", 3), ("乙", 1), ("甲", 5)]
    topics = _topic_list(random.Random(1), held, [f"专题{i}" for i in range(20)])
    assert 8 <= len(topics) <= 12
    assert [t for t, _ in topics].count("甲") == 1 and ("乙", 1) in topics
    assert [m for _, m in topics] == sorted(m for _, m in topics)
    assert topics == _topic_list(random.Random(1), held, [f"专题{i}" for i in range(20)])


@pytest.mark.django_db
def test_it_writes_plans_sessions_and_groups_without_audit_rows(demo_mode):
    _ctx, audit = _generate()
    assert AuditEvent.objects.count() == audit
    year = timezone.localdate().year
    lgs = Org.objects.filter(kind=Org.Kind.LEADING_GROUP, dissolved_on__isnull=True)
    for lg in lgs:
        for y in (year - 1, year):
            plan = StudyPlan.objects.get(org=lg, year=y, group__isnull=True)
            assert 8 <= plan.topics.count() <= 12
    units = Org.objects.filter(depth=1).exclude(kind__in=[Org.Kind.LEADING_GROUP, Org.Kind.WORK_COMMITTEE])
    assert (
        StudyPlan.objects.filter(org__in=units, group__isnull=True, year=year).count()
        == units.filter(dissolved_on__isnull=True).count()
    )
    # Every 中心组学习 is a study session of the 党组's central group, on its plan's topic, with speakers.
    central = Meeting.objects.filter(kind="central_group_study")
    assert central.count() == StudySession.objects.count() > 0
    for s in StudySession.objects.select_related("meeting", "group", "topic__plan"):
        assert s.group.kind == StudyGroup.Kind.CENTRAL and s.group.org_id == s.meeting.org_id
        assert s.topic is not None and s.topic.title == s.meeting.topic
        assert s.topic.plan.year == timezone.localtime(s.meeting.starts_at).year
        speakers = list(s.keynote_speakers.all())
        assert speakers and all(p.is_leader for p in speakers)
    # 青年理论学习小组: people aged 35 and under of the unit, from more than one branch.
    youth = StudyGroup.objects.filter(kind=StudyGroup.Kind.YOUTH)
    assert youth.exists()
    today = timezone.localdate()
    for g in youth:
        members = list(g.members.all())
        units = set(g.org.units.values_list("pk", flat=True))
        assert all(p.unit_id in units and (today - p.birth_date).days < 36 * 366 for p in members)
        assert len({p.org_id for p in members if p.org_id}) >= 2
        assert StudyPlan.objects.filter(group=g).count() == 2
    assert StudyTopic.objects.count() > 8 * StudyPlan.objects.count() * 0.7


@pytest.mark.django_db
def test_it_computes_observer_deadlines_like_the_services_with_some_late(demo_mode):
    _generate(scale=0.2)
    obs = list(Observation.objects.select_related("session__meeting"))
    sessions = StudySession.objects.count()
    linked = [o for o in obs if o.session_id]
    assert 0.15 * sessions < len(linked) < 0.45 * sessions
    today = timezone.localdate()
    for o in obs:
        assert o.materials_due_on == services.materials_due(o.planned_on)
        assert o.summary_due_on == services.summary_due(o.planned_on)
        assert services.text_length(o.summary) <= 500
        assert bool(o.summary) == (o.summary_submitted_on is not None)
        assert o.observer.unit_id not in set(o.observed_org.units.values_list("pk", flat=True))
        if o.session_id:
            assert o.planned_on == timezone.localtime(o.session.meeting.starts_at).date()
    warnings = Counter(w.code for o in obs for w in services.observation_warnings(o, today))
    assert warnings["materials_late"] + warnings["summary_late"] + warnings["summary_overdue"] > 0
    assert any(o.planned_on > today and o.session_id is None for o in obs)
    on_time = [o for o in linked if o.summary_submitted_on and o.summary_submitted_on <= o.summary_due_on]
    assert len(on_time) > len(linked) / 2


@pytest.mark.django_db
def test_it_adds_nothing_when_run_twice_and_repeats_counts_per_seed(demo_mode):
    ctx, _ = _generate()
    counts = [m.objects.count() for m in (StudyPlan, StudyTopic, StudyGroup, StudySession, Observation)]
    ctx.rng = random.Random("again")
    demo_study(ctx)
    assert counts == [
        m.objects.count() for m in (StudyPlan, StudyTopic, StudyGroup, StudySession, Observation)
    ]
    # The same seed over the same city draws the same study history.
    for model in (Observation, StudySession, StudyTopic, StudyPlan, StudyGroup):
        model.objects.all().delete()
    ctx.rng = random.Random("5:study.history")
    demo_study(ctx)
    assert counts == [
        m.objects.count() for m in (StudyPlan, StudyTopic, StudyGroup, StudySession, Observation)
    ]
