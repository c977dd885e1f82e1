"""Demo data: two years of volunteer activities across the 十大志愿行动 and civility applications in
every state, on top of the city ``org.demo`` built (order 370).

- The 机关工委 runs one activity per campaign a year; each unit's root org (机关党委 / 党总支 / 党支部)
  runs 2–5 a year (scaled), open to its members and the unit's staff. Past activities are over, most
  with attendance and hours confirmed (a few still waiting for the organiser, so the reminder shows);
  some are cancelled; the coming weeks hold open and planned ones with sign-ups. The demo member
  (dangyuan) took part in a few and is signed up for one to come.
- Each unit has a 文明单位 history: a valid title (some expiring within 90 days), an expired one, an
  application under review, returned with an opinion, or being filled in; a few offices and families
  apply too, so every state shows.

History is written with bulk inserts, not through ``services``: no notifications go out and no audit
rows are written (nobody did these things in the system). Deterministic from the generator's stream.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sizheng.core.demo import generator
from sizheng.volunteer.workflow import add_years as _add_years

BATCH = 2000

PLACES = [
    "市民中心广场", "人民公园", "火车站广场", "滨江绿道", "阳光社区党群服务中心", "幸福里社区",
    "市第一中学", "市儿童福利院", "市社会福利院", "市政务服务中心", "中心血站", "城东菜市场",
    "解放路与人民路交叉口", "光明社区新时代文明实践站", "市图书馆", "湿地公园",
]  # fmt: skip
TITLES = {
    0: ["学习贯彻党的创新理论进社区宣讲", "“法治进万家”政策宣讲", "“百姓名嘴”进社区宣讲"],
    1: ["文明交通劝导", "“礼让斑马线”文明引导", "公交站点文明乘车引导"],
    2: ["在职党员进社区报到服务", "社区环境整治共建", "“双报到”认领项目服务"],
    3: ["植树护绿", "河湖巡护清洁", "垃圾分类入户宣传"],
    4: ["敬老院陪伴服务", "“四点半课堂”助学", "困境儿童关爱走访"],
    5: ["结对帮扶困难家庭", "助残日走访慰问", "残疾人就业帮扶"],
    6: ["“光盘行动”食堂宣传", "文明餐桌倡议", "公筷公勺推广"],
    7: ["无偿献血", "造血干细胞捐献宣传", "献血屋服务"],
    8: ["政务服务中心导办帮办", "窗口政策咨询", "“办不成事”反映窗口值守"],
    9: ["防汛应急演练", "安全知识进社区", "应急救护培训"],
}  # fmt: skip
CANCEL_REASONS = ["天气原因，活动取消。", "与上级临时部署的工作冲突，活动取消。", "场地临时调整，活动取消。"]
RETURN_OPINIONS = [
    "志愿服务开展情况佐证不足，请补充全年志愿活动的组织和参与情况说明。",
    "“党风廉政建设”一项表述过于笼统，请结合本单位实际补充具体做法。",
    "创建情况概述与各项标准的落实情况不一致，请核实后重新提交。",
]
NOTES = [
    "已按要求落实，相关制度、记录和台账齐全。",
    "本年度按计划开展，形成工作记录和总结材料。",
    "建立了长效机制，干部职工参与面广，群众反映良好。",
    "结合单位实际制定了实施方案，定期检查落实情况。",
]
SUMMARY = (
    "{name}坚持以习近平新时代中国特色社会主义思想为指导，把精神文明创建融入业务工作全过程，"
    "常态化开展志愿服务和文明实践活动，各项创建标准落实到位。"
)


@generator("volunteer.history", order=370, label="志愿行动与文明创建")
def demo_volunteer(ctx) -> None:
    """Activities, sign-ups and confirmed hours for two years, and civility applications (skipped when
    any exist)."""
    from django.db import transaction

    from sizheng.org.models import Org
    from sizheng.volunteer.models import Activity, Application, Campaign

    if Activity.objects.exists() or Application.objects.exists():
        ctx.log("  已有志愿活动或文明创建申报，跳过。")
        return
    campaigns = list(
        Campaign.objects.filter(is_active=True).order_by("order", "pk").values_list("pk", flat=True)
    )
    if not campaigns or not Org.objects.exists():
        ctx.log("  没有志愿行动或党组织，跳过志愿行动与文明创建。")
        return
    with transaction.atomic():
        n_act, n_sign = _activities(ctx, campaigns)
        n_app = _applications(ctx)
    ctx.log(f"  志愿活动 {n_act} 项（报名 {n_sign} 人次），文明创建申报 {n_app} 份。")


def _activities(ctx, campaigns: list[int]) -> tuple[int, int]:  # noqa: C901 (one pass over the city)
    from django.utils import timezone

    from sizheng.org.models import Org, Person
    from sizheng.volunteer.models import Activity, Signup

    rng, now = ctx.rng, timezone.now()
    today, tz = timezone.localdate(now), timezone.get_current_timezone()
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")
    demo_member = (ctx.shared.get("demo_person_ids") or {}).get("dangyuan")
    root = Org.objects.filter(parent__isnull=True).values("id", "path").first()
    tops = list(
        Org.objects.filter(depth=1, dissolved_on__isnull=True)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("path")
        .values("id", "path")
    )
    units_of: dict[int, list[int]] = defaultdict(list)
    for org_id, unit_id in Org.units.through.objects.order_by("org_id", "unit_id").values_list(
        "org_id", "unit_id"
    ):
        units_of[org_id].append(unit_id)
    members: dict[str, list[int]] = defaultdict(list)  # top org path → people
    staff_by_unit: dict[int, list[int]] = defaultdict(list)
    everyone: list[int] = []
    top_paths = [t["path"] for t in tops]
    for pid, path, unit_id in (
        Person.objects.filter(left_on__isnull=True).order_by("pk").values_list("pk", "org__path", "unit_id")
    ):
        everyone.append(pid)
        if path:
            top = next((p for p in top_paths if path.startswith(p)), None)
            if top:
                members[top].append(pid)
        else:
            staff_by_unit[unit_id].append(pid)
    pools: dict[int, list[int]] = {}
    if root:
        pools[root["id"]] = everyone
    for t in tops:
        pools[t["id"]] = members[t["path"]] + [p for u in units_of[t["id"]] for p in staff_by_unit[u]]

    plans: list[tuple[int, int, int]] = []  # (org, campaign index, year)
    for year in (today.year - 1, today.year):
        if root:
            plans += [(root["id"], i, year) for i in range(len(campaigns))]
        per_unit = max(1, round(3 * min(ctx.scale, 2)))
        for t in tops:
            if len(pools[t["id"]]) < 3:
                continue
            n = rng.randint(per_unit - 1, per_unit + 2)
            plans += [(t["id"], rng.randrange(len(campaigns)), year) for _ in range(n)]
    activities: list[Activity] = []
    pool_of: list[list[int]] = []
    jan1 = date(today.year, 1, 1)
    for org_id, cidx, year in plans:
        if year < today.year:
            day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        else:
            # This year's activities ran from January until today; about one in five lies in the coming
            # six weeks (open or still planned), so sign-ups show.
            if rng.random() < 0.2:
                day = today + timedelta(days=rng.randint(1, 42))
            else:
                day = jan1 + timedelta(days=rng.randint(0, (today - jan1).days))
        if day.weekday() == 6:
            day += timedelta(days=1)
        start_hour = rng.choice([8, 9, 9, 14, 14, 15])
        length = rng.choice([2, 2, 3, 3, 4])
        starts = datetime.combine(day, time(start_hour, rng.choice([0, 30])), tzinfo=tz)
        ends = starts + timedelta(hours=length)
        title = rng.choice(TITLES.get(cidx % 10, ["志愿服务活动"]))
        capacity = (
            rng.choice([None, None, 10, 15, 20, 30, 40])
            if org_id != root["id"]
            else rng.choice([None, 50, 80])
        )
        if ends <= now:
            state = "done"
            r = rng.random()
            if r < 0.04:
                state = "cancelled"
            elif r < 0.10:
                state = "open"  # over, waiting for the organiser to confirm
        elif starts <= now:
            state = "open"
        else:
            state = "open" if rng.random() < 0.75 else "planned"
        activities.append(
            Activity(
                title=title, campaign_id=campaigns[cidx], org_id=org_id, starts_at=starts, ends_at=ends,
                place=rng.choice(PLACES), planned_hours=Decimal(length) - (Decimal("0.5") if rng.random() < 0.3 else 0),
                capacity=capacity, description=f"{title}。请报名的同志准时到达集合地点，着装整洁，注意安全。",
                state=state, cancel_reason=rng.choice(CANCEL_REASONS) if state == "cancelled" else "",
                created_by_id=gongwei if org_id == root["id"] else None,
                created_at=min(now, starts - timedelta(days=rng.randint(7, 20))),
            )
        )  # fmt: skip
        pool_of.append(pools[org_id])
    Activity.objects.bulk_create(activities, batch_size=BATCH)

    signups: list[Signup] = []
    seats: dict[int, int] = {}
    member_pool_orgs = {a.pk for a, pool in zip(activities, pool_of, strict=True) if demo_member in pool}
    member_done = [a for a in activities if a.pk in member_pool_orgs and a.state == "done"][-6:]
    member_next = next(
        (a for a in activities if a.pk in member_pool_orgs and a.state == "open" and a.starts_at > now), None
    )
    for a, pool in zip(activities, pool_of, strict=True):
        if not pool or a.state == "planned":
            seats[a.pk] = 0
            continue
        limit = a.capacity or 40
        want = min(len(pool), limit, rng.randint(4, 18) if a.starts_at > now else rng.randint(6, 30))
        chosen = rng.sample(pool, want)
        if demo_member and (a in member_done or a is member_next) and demo_member not in chosen:
            chosen = [demo_member, *chosen[: max(0, limit - 1)]]
        taken = 0
        for pid in chosen:
            signed = a.starts_at - timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 8))
            status, hours, withdrawn_at, confirmed_at = "signed_up", None, None, None
            if rng.random() < 0.06 and pid != demo_member:
                status, withdrawn_at = "withdrawn", signed + timedelta(days=1)
            elif a.state == "done":
                if rng.random() < 0.9 or pid == demo_member:
                    status = "attended"
                    hours = (
                        a.planned_hours
                        if rng.random() < 0.8
                        else max(Decimal("0.5"), a.planned_hours - Decimal("0.5"))
                    )
                else:
                    status = "absent"
                confirmed_at = a.ends_at + timedelta(days=rng.randint(0, 3), hours=2)
            if status != "withdrawn":
                taken += 1
            signups.append(Signup(activity_id=a.pk, person_id=pid, status=status, hours=hours,
                                  signed_up_at=min(now, signed), withdrawn_at=withdrawn_at,
                                  confirmed_at=min(now, confirmed_at) if confirmed_at else None,
                                  confirmed_by_id=a.created_by_id if confirmed_at else None))  # fmt: skip
        seats[a.pk] = taken
    Signup.objects.bulk_create(signups, batch_size=BATCH)
    for a in activities:
        a.seats_taken = seats.get(a.pk, 0)
    Activity.objects.bulk_update(activities, ["seats_taken"], batch_size=BATCH)
    return len(activities), len(signups)


def _applications(ctx) -> int:  # noqa: C901 (one pass over the units)
    from django.utils import timezone

    from sizheng.org.models import Office, Person, Unit
    from sizheng.volunteer.models import Application, ApplicationItem, Criterion

    rng, now = ctx.rng, timezone.now()
    today, tz = timezone.localdate(now), timezone.get_current_timezone()
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")
    criteria: dict[str, list[Criterion]] = defaultdict(list)
    for c in Criterion.objects.filter(is_active=True).order_by("kind", "order", "pk"):
        criteria[c.kind].append(c)
    units = list(Unit.objects.filter(is_active=True).order_by("order", "pk").values("id", "name"))
    offices: dict[int, list[int]] = defaultdict(list)
    for pk, unit_id in Office.objects.order_by("pk").values_list("pk", "unit_id"):
        offices[unit_id].append(pk)
    people: dict[int, list[int]] = defaultdict(list)
    for pk, unit_id in (
        Person.objects.filter(left_on__isnull=True).order_by("pk").values_list("pk", "unit_id")
    ):
        people[unit_id].append(pk)

    def moment(day: date, hour: int = 10) -> datetime:
        return datetime.combine(min(day, today), time(hour), tzinfo=tz)

    rows: list[tuple[Application, int]] = []  # (application, how many notes filled)

    def add(kind: str, unit_id: int, state: str, *, year: int, office=None, person=None, approved_on=None):
        submitted = date(year, 3, 1) + timedelta(days=rng.randrange(200))
        app = Application(kind=kind, year=year, unit_id=unit_id, office_id=office, person_id=person, state=state,
                          summary=SUMMARY.format(name="本单位" if kind == "unit" else "本处室" if kind == "office" else "本家庭"),
                          created_by_id=gongwei, created_at=moment(submitted - timedelta(days=20)))  # fmt: skip
        if state != "draft":
            app.submitted_at = moment(submitted)
        if state in ("approved", "expired"):
            start = approved_on or submitted + timedelta(days=30)
            app.reviewed_at, app.reviewed_by_id = moment(start, 15), gongwei
            app.valid_from, app.valid_until = start, _add_years(start, 3) - timedelta(days=1)
            app.opinion = "材料齐全，符合创建标准，同意命名。"
        if state == "returned":
            app.reviewed_at, app.reviewed_by_id = moment(submitted + timedelta(days=20), 15), gongwei
            app.opinion = rng.choice(RETURN_OPINIONS)
        filled = len(criteria[kind]) if state != "draft" else rng.randint(0, max(0, len(criteria[kind]) - 1))
        rows.append((app, filled))

    # The scenarios in this order, so even a small city shows the states that matter first.
    order = [0, 3, 4, 5, 6, 1, 2, 7]
    for i, u in enumerate(units):
        r = order[i % 8]
        if r in (0, 1, 2):  # a title in force, approved last year or the year before
            add("unit", u["id"], "approved", year=today.year - 1 - (r == 2),
                approved_on=date(today.year - 1 - (r == 2), 6, 1) + timedelta(days=rng.randrange(150)))  # fmt: skip
        elif r == 3:  # in force, expiring within 90 days: the reminder's case
            start = _add_years(today + timedelta(days=rng.randint(20, 80)), -3) + timedelta(days=1)
            add("unit", u["id"], "approved", year=start.year, approved_on=start)
        elif r == 4:  # expired, and a renewal under review
            start = _add_years(today, -3) - timedelta(days=rng.randint(30, 200))
            add("unit", u["id"], "expired", year=start.year, approved_on=start)
            add("unit", u["id"], "submitted", year=today.year)
        elif r == 5:
            add("unit", u["id"], "returned", year=today.year)
        elif r == 6:
            add("unit", u["id"], "draft", year=today.year)
        if offices[u["id"]] and rng.random() < 0.5:
            state = rng.choice(["approved", "approved", "submitted", "returned", "draft"])
            add(
                "office",
                u["id"],
                state,
                year=today.year - (state == "approved"),
                office=rng.choice(offices[u["id"]]),
            )
        if people[u["id"]] and rng.random() < 0.4:
            state = rng.choice(["approved", "approved", "submitted", "draft"])
            add(
                "family",
                u["id"],
                state,
                year=today.year - (state == "approved"),
                person=rng.choice(people[u["id"]]),
            )
    # A small city may not reach every state through the units: families fill the gaps.
    covered = {a.state for a, _ in rows}
    for k, state in enumerate(s for s in ("submitted", "returned", "draft", "expired") if s not in covered):
        u = units[k % len(units)] if units else None
        if u is None or not people[u["id"]]:
            continue
        used = {a.person_id for a, _ in rows if a.person_id}
        person = next((p for p in people[u["id"]] if p not in used), None)
        if person is None:
            continue
        if state == "expired":
            add("family", u["id"], state, year=today.year - 4, person=person,
                approved_on=_add_years(today, -3) - timedelta(days=60))  # fmt: skip
        else:
            add("family", u["id"], state, year=today.year, person=person)
    Application.objects.bulk_create([a for a, _ in rows], batch_size=BATCH)
    items = [
        ApplicationItem(
            application_id=a.pk,
            criterion=c,
            title=c.title,
            requirement=c.requirement,
            order=j + 1,
            note=rng.choice(NOTES) if j < filled else "",
        )  # fmt: skip
        for a, filled in rows
        for j, c in enumerate(criteria[a.kind])
    ]
    ApplicationItem.objects.bulk_create(items, batch_size=BATCH)
    return len(rows)
