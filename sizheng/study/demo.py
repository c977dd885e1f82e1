"""Demo data: theory study for last year and this year — plans, study groups, central-group sessions
and observers (列席旁听) — on top of the meetings ``life.demo`` generated.

- Each 党组 gets its 理论学习中心组 (a study group of the unit's leadership) and a yearly plan whose
  8–12 topics are the themes its central group studied (or will study) that year; each unit-level
  org (机关党委, 党总支, a unit's own or joint branch) gets a yearly plan too. Last year's plans carry a
  year-end summary; this year's are published, a few still drafts.
- Every 中心组学习 meeting becomes a study session linked to its plan's topic, with one or two
  keynote speakers from the leadership and its materials.
- A few units (those with a 机关党委 or 党总支) run a 青年理论学习小组 of their people aged 35 and under
  from all their branches, with a yearly plan.
- About 30 % of the central-group sessions had an observer sent by the 机关工委 (a 机关党委 / 党总支
  post holder of another unit): materials due 5 workdays before, the summary (≤ 500 characters) 10
  workdays after, as ``services.materials_due`` / ``summary_due`` compute them — mostly on time, some
  late or missing; a few observations are planned for the coming weeks so the warnings show today.

History is written with bulk inserts, not through ``services``: no notifications go out and no audit
rows are written (nobody did these things in the system). Deterministic from the generator's stream.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from sizheng.core.demo import generator
from sizheng.life.demo import STUDY_THEMES

BATCH = 2000

MATERIALS = [
    "《习近平谈治国理政》第五卷相关篇目",
    "《习近平新时代中国特色社会主义思想学习纲要（2023年版）》相关章节",
    "中央有关文件和会议公报",
    "《中国共产党纪律处分条例》逐条解读",
    "人民日报评论员文章",
    "省委、市委有关贯彻落实意见",
]
YOUTH_TOPICS = [
    "青年干部读原著学原文悟原理",
    "学习习近平总书记关于青年工作的重要思想",
    "青年干部如何练就过硬本领",
    "走好新时代青年干部的长征路",
    "青年干部调研成果交流",
    "讲好身边的奋斗故事",
    "学党史、悟思想、办实事",
    "青年干部廉洁从政教育",
]
UNIT_TOPICS = [
    "学习贯彻党的二十届四中全会精神",
    "学习《中国共产党章程》",
    "深入贯彻中央八项规定精神学习教育",
    "学习《中国共产党纪律处分条例》",
    "学习贯彻习近平总书记关于党的建设的重要思想",
    "学习贯彻全国两会精神",
    "学习党史、新中国史、改革开放史、社会主义发展史",
    "学习贯彻习近平法治思想",
    "学习贯彻总体国家安全观",
    "学习《中国共产党支部工作条例（试行）》",
    "学习贯彻中央经济工作会议精神",
    "学习贯彻习近平文化思想",
]
SUMMARIES = [
    "本次中心组学习主题鲜明、准备充分，学习材料提前印发。{speakers}作主旨发言，结合分管工作谈认识、谈打算，"
    "研讨联系实际较紧。建议今后进一步突出问题导向，把学习成果转化为推动工作的具体举措。",
    "学习安排规范，会前制定了方案并按时报送材料。交流发言紧扣主题，{speakers}的发言有深度、有思考。"
    "个别发言联系实际不够，建议围绕本单位重点任务开展专题调研，做到学用结合。",
    "会议按计划召开，学习内容丰富。{speakers}作重点发言，班子成员逐一交流。总体看学习氛围浓厚，"
    "但研讨环节时间偏短，建议适当增加互动交流，提升学习实效。",
]
PLAN_SUMMARY = (
    "{year}年，{org}坚持把学习贯彻习近平新时代中国特色社会主义思想作为首要政治任务，按计划开展集中学习{n}次，"
    "围绕年度专题深入研讨，学习成效转化为推动工作的具体举措。存在的不足是学用结合还需加强，来年将进一步改进。"
)


def _topic_list(rng, themes: list[tuple[str, int]], bank: list[str], lo: int = 8, hi: int = 12):
    """8–12 (title, month) topics: the themes held that year first (by month), padded from the bank."""
    out, seen = [], set()
    for title, month in sorted(themes, key=lambda t: t[1]):
        if title not in seen:
            seen.add(title)
            out.append((title, month))
    want = rng.randint(lo, hi)
    spare = [t for t in bank if t not in seen]
    rng.shuffle(spare)
    months = sorted(rng.sample(range(1, 13), 12))
    while len(out) < want and spare:
        out.append((spare.pop(), months[len(out) % 12]))
    return sorted(out[: max(want, len(seen))], key=lambda t: t[1])


@generator("study.history", order=310, label="理论学习：计划、学习组、列席旁听")
def demo_study(ctx) -> None:  # noqa: C901 (one pass over the city, in order)
    """Plans, groups, central-group sessions and observers (skipped when plans already exist)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.core.calendar import get_calendar
    from sizheng.life.models import Meeting
    from sizheng.org.models import Org, OrgRole, Person
    from sizheng.study.models import Observation, StudyGroup, StudyPlan, StudySession, StudyTopic

    if StudyPlan.objects.exists() or StudyGroup.objects.exists():
        ctx.log("  已有学习计划，跳过理论学习。")
        return
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    cal = get_calendar()
    years = (today.year - 1, today.year)
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")

    orgs = list(
        Org.objects.filter(depth=1)
        .exclude(kind=Org.Kind.WORK_COMMITTEE)
        .order_by("path")
        .values("id", "kind", "name", "dissolved_on")
    )
    units_of: dict[int, list[int]] = defaultdict(list)
    for org_id, unit_id in Org.units.through.objects.order_by("org_id", "unit_id").values_list(
        "org_id", "unit_id"
    ):
        units_of[org_id].append(unit_id)
    leaders: dict[int, list[int]] = defaultdict(list)
    young: dict[int, list[int]] = defaultdict(list)
    limit = date(today.year - 36, today.month, min(today.day, 28))
    for pid, unit_id, leader, born in (
        Person.objects.filter(left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", "unit_id", "is_leader", "birth_date")
    ):
        if leader:
            leaders[unit_id].append(pid)
        if born and born > limit:
            young[unit_id].append(pid)
    # Observers: current post holders of the units' 机关党委 / 党总支 (the 机关工委 draws on them).
    observers: list[tuple[int, int]] = []  # (person, unit)
    committee_units = {
        o["id"]: units_of[o["id"]] for o in orgs if o["kind"] in ("committee", "general_branch")
    }
    for org_id, pid in (
        OrgRole.objects.filter(org_id__in=committee_units, starts_on__lte=today)
        .exclude(ends_on__lt=today)
        .order_by("pk")
        .values_list("org_id", "person_id")
    ):
        observers.append((pid, committee_units[org_id][0]))
    meetings: dict[int, list[tuple[int, datetime, str]]] = defaultdict(
        list
    )  # LG → (meeting, starts_at, topic)
    for mid, org_id, starts_at, topic in (
        Meeting.objects.filter(kind="central_group_study")
        .order_by("starts_at", "pk")
        .values_list("pk", "org_id", "starts_at", "topic")
    ):
        meetings[org_id].append((mid, timezone.localtime(starts_at, tz), topic))

    groups: list[StudyGroup] = []
    group_members: list[list[int]] = []
    plans: list[StudyPlan] = []
    plan_topics: list[list[tuple[str, int]]] = []
    central_of: dict[int, int] = {}  # LG → index in groups
    for o in orgs:
        unit_people = [p for u in units_of[o["id"]] for p in leaders[u]]
        if o["kind"] == "leading_group":
            if not unit_people:
                continue
            central_of[o["id"]] = len(groups)
            groups.append(StudyGroup(name=f"{o['name']}理论学习中心组", kind="central", org_id=o["id"],
                                     description="党组理论学习中心组，成员为党组成员和单位领导班子成员。"))  # fmt: skip
            group_members.append(unit_people)
        for year in years:
            if o["dissolved_on"] and o["dissolved_on"].year < year:
                continue
            held = [(t, at.month) for _mid, at, t in meetings.get(o["id"], []) if at.year == year]
            bank = STUDY_THEMES if o["kind"] == "leading_group" else UNIT_TOPICS
            topics = _topic_list(rng, held, bank)
            kind = "理论学习中心组学习计划" if o["kind"] == "leading_group" else "理论学习计划"
            draft = year == today.year and rng.random() < 0.08
            summary = ""
            if year < today.year:
                summary = PLAN_SUMMARY.format(year=year, org=o["name"], n=len(held) or len(topics))
            plans.append(StudyPlan(org_id=o["id"], year=year, title=f"{o['name']}{year}年{kind}", summary=summary,
                                   state="draft" if draft else "published", created_by_id=gongwei,
                                   created_at=min(now, datetime(year, 1, rng.randint(8, 28), 10, tzinfo=tz))))  # fmt: skip
            plan_topics.append(topics)
    # 青年理论学习小组: a few units with branches (a 机关党委 or 党总支), across their branches.
    tops = [o for o in orgs if o["kind"] in ("committee", "general_branch") and o["dissolved_on"] is None]
    for o in rng.sample(tops, min(len(tops), max(1, round(3 * ctx.scale)))):
        members = [p for u in units_of[o["id"]] for p in young[u]]
        if len(members) < 3:
            continue
        groups.append(StudyGroup(name=f"{o['name'].removesuffix('机关委员会').removesuffix('机关总支部委员会')}青年理论学习小组",
                                 kind="youth", org_id=o["id"],
                                 description="由35周岁以下青年干部组成，跨支部开展读原著、学原文、悟原理活动。"))  # fmt: skip
        group_members.append(members)
    with transaction.atomic():
        StudyGroup.objects.bulk_create(groups, batch_size=BATCH)
        through = StudyGroup.members.through
        through.objects.bulk_create(
            [
                through(studygroup_id=g.pk, person_id=p)
                for g, ms in zip(groups, group_members, strict=True)
                for p in ms
            ],
            batch_size=BATCH,
        )
        for g in groups:
            if g.kind != "youth":
                continue
            for year in years:
                plans.append(StudyPlan(org_id=g.org_id, group=g, year=year, title=f"{g.name}{year}年学习计划",
                                       state="published", created_by_id=gongwei,
                                       created_at=min(now, datetime(year, 2, 10, 10, tzinfo=tz))))  # fmt: skip
                plan_topics.append(_topic_list(rng, [], YOUTH_TOPICS, 6, 8))
        StudyPlan.objects.bulk_create(plans, batch_size=BATCH)
        topics = [
            StudyTopic(plan=plan, title=title, month=month, order=i + 1,
                       materials="、".join(rng.sample(MATERIALS, 2)))
            for plan, ts in zip(plans, plan_topics, strict=True)
            for i, (title, month) in enumerate(ts)
        ]  # fmt: skip
        StudyTopic.objects.bulk_create(topics, batch_size=BATCH)
        topic_of: dict[tuple[int, int, str], StudyTopic] = {}
        for t in topics:
            if t.plan.group_id is None:
                topic_of.setdefault((t.plan.org_id, t.plan.year, t.title), t)

        sessions, speakers, plans_for_obs = [], [], []
        for lg, rows in sorted(meetings.items()):
            people = [p for u in units_of[lg] for p in leaders[u]]
            central: StudyGroup | None = groups[central_of[lg]] if lg in central_of else None
            for mid, at, title in rows:
                sessions.append(StudySession(meeting_id=mid, group=central, topic=topic_of.get((lg, at.year, title)),
                                             materials="、".join(rng.sample(MATERIALS, 2)), created_at=at))  # fmt: skip
                speakers.append(rng.sample(people, min(len(people), rng.choice([1, 2, 2]))) if people else [])
                plans_for_obs.append((lg, at.date()))
        StudySession.objects.bulk_create(sessions, batch_size=BATCH)
        sthrough = StudySession.keynote_speakers.through
        sthrough.objects.bulk_create(
            [
                sthrough(studysession_id=s.pk, person_id=p)
                for s, ps in zip(sessions, speakers, strict=True)
                for p in ps
            ],
            batch_size=BATCH,
        )
        names = dict(
            Person.objects.filter(pk__in={p for ps in speakers for p in ps}).values_list("pk", "name")
        )
        pools: dict[int, list[int]] = {}

        def pool_of(lg: int) -> list[int]:
            """Observers from other units than the 党组's own (computed once per 党组)."""
            if lg not in pools:
                pools[lg] = [p for p, u in observers if u not in units_of[lg]]
            return pools[lg]

        observations = []
        for s, ps, (lg, day) in zip(sessions, speakers, plans_for_obs, strict=True):
            if rng.random() >= 0.3:
                continue
            pool = pool_of(lg)
            if not pool:
                continue
            observations.append(_observation(rng, cal, today, lg, rng.choice(pool), day, s,
                                             "、".join(names.get(p, "") for p in ps) or "党组书记", gongwei))  # fmt: skip
        # A few observations planned for the coming weeks (materials soon / not yet sent).
        lgs = sorted(central_of)
        for lg in rng.sample(lgs, min(len(lgs), max(2, round(4 * ctx.scale)))):
            pool = pool_of(lg)
            if pool:
                day = cal.add_workdays(today, rng.randint(3, 15))
                observations.append(
                    _observation(rng, cal, today, lg, rng.choice(pool), day, None, "", gongwei)
                )
        seen, unique = set(), []
        for ob in observations:
            key = (ob.observed_org_id, ob.observer_id, ob.planned_on)
            if key not in seen:
                seen.add(key)
                unique.append(ob)
        Observation.objects.bulk_create(unique, batch_size=BATCH)
    ctx.log(
        f"  学习计划 {len(plans)} 份（专题 {len(topics)} 个），学习小组 {len(groups)} 个，"
        f"中心组学习 {len(sessions)} 次，列席旁听 {len(unique)} 次。"
    )


def _observation(rng, cal, today: date, lg: int, observer: int, day: date, session, speakers: str, by):
    """One observation: materials mostly on time (some late, a few missing), the summary likewise."""
    from django.utils import timezone

    from sizheng.study.models import Observation
    from sizheng.study.services import MATERIALS_LEAD_WORKDAYS, SUMMARY_WORKDAYS

    materials_due = cal.add_workdays(day, -MATERIALS_LEAD_WORKDAYS)
    summary_due = cal.add_workdays(day, SUMMARY_WORKDAYS)
    r = rng.random()
    sent = None
    if r < 0.82:
        sent = cal.add_workdays(materials_due, -rng.randint(0, 3))
    elif r < 0.94:
        sent = cal.add_workdays(materials_due, rng.randint(1, 4))
    if sent is not None and sent > today:
        sent = None
    summary, submitted = "", None
    if session is not None:
        x = rng.random()
        if x < 0.78:
            submitted = cal.add_workdays(day, rng.randint(2, 10))
        elif x < 0.9:
            submitted = cal.add_workdays(summary_due, rng.randint(1, 6))
        if submitted is not None and submitted > today:
            submitted = None
        if submitted is not None:
            summary = rng.choice(SUMMARIES).format(speakers=speakers)[:500]
    created = cal.add_workdays(day, -rng.randint(8, 15))
    return Observation(
        observed_org_id=lg, observer_id=observer, session=session, planned_on=day,
        materials_due_on=materials_due, materials_sent_on=sent, summary=summary, summary_due_on=summary_due,
        summary_submitted_on=submitted, assigned_by_id=by,
        created_at=datetime.combine(min(created, today), time(9), tzinfo=timezone.get_current_timezone()),
    )  # fmt: skip
