"""Demo data: two years (last year and this year) of funds for every unit of the demo city.

- A yearly budget per unit: a base of 20 000–40 000 元 plus 300–600 元 per party member, rounded to
  hundreds, split over the six categories (学习教育 and 主题活动 the largest shares).
- Spending records with awkward cents (1 286.40, 356.75 …), each linked where it fits to what it
  served: a 主题党日 or 党课 of one of the unit's orgs, a study session, a care case of the unit
  (named by number only) — dated on or just after the activity, never after today.
- Most units spend 85–99 % of last year's budget and keep pace this year; about one in seven
  under-spends (below 50 % once Q4 has begun), and one unit overspends its 关爱慰问 line this year.
- Finally the daily job runs once, so the warnings of this year have their "经费执行预警" duties.

History is written with bulk inserts, not through ``services``: no audit rows are written (nobody
did these things in the system), except the duties ``duty_open`` opens. Deterministic from the
generator's seeded stream.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sizheng.core.demo import generator
from sizheng.funds import money

BATCH = 2000
# Category → (share of the budget, purposes).
PLAN: dict[str, tuple[Decimal, list[str]]] = {
    "study": (
        Decimal("0.24"),
        [
            "购买理论学习书籍和学习资料",
            "订阅党报党刊",
            "专题党课讲稿印制",
            "学习贯彻会议精神辅导资料",
            "理论学习中心组学习材料",
            "青年理论学习小组读书活动用书",
        ],
    ),
    "position": (
        Decimal("0.16"),
        [
            "党员活动室宣传展板更新",
            "党建文化墙维护",
            "党员活动室设备购置",
            "党务公开栏制作",
            "党员之家图书角添置书架",
        ],
    ),
    "care": (
        Decimal("0.16"),
        [
            "走访慰问困难党员",
            "慰问生病住院职工",
            "慰问老党员和离退休干部",
            "困难职工帮扶慰问金",
            "节日走访慰问",
        ],
    ),
    "activity": (
        Decimal("0.22"),
        [
            "主题党日活动交通及场地费",
            "七一主题党日活动",
            "红色教育基地参观学习",
            "志愿服务活动物资",
            "重温入党誓词活动用品",
        ],
    ),
    "training": (
        Decimal("0.17"),
        [
            "党务干部业务培训",
            "入党积极分子培训班",
            "支部书记轮训",
            "新任党务干部培训资料",
            "党建业务知识辅导讲座",
        ],
    ),
    "other": (Decimal("0.05"), ["党建工作台账印制", "党费收缴凭证印制", "党建工作办公用品"]),
}
# What each category's spending may serve (kind of activity), in order of preference.
SERVES = {
    "study": ("study_session", "meeting"),
    "training": ("study_session",),
    "activity": ("meeting",),
    "care": ("care_case",),
}
LINK_SHARE = 0.6
HUNDRED = Decimal("100")


def _budget_lines(rng, members: int) -> dict[str, Decimal]:
    """The six lines of a yearly budget, each a multiple of 100 元."""
    total = Decimal(rng.randint(200, 400) * 100) + Decimal(members * rng.randint(300, 600))
    lines = {}
    for code, (share, _purposes) in PLAN.items():
        jitter = Decimal(rng.randint(85, 115)) / HUNDRED
        lines[code] = (total * share * jitter / HUNDRED).quantize(Decimal("1")) * HUNDRED
    return lines


def _pieces(rng, target: Decimal) -> list[Decimal]:
    """Amounts with awkward cents adding up to within 50 元 under ``target``."""
    out: list[Decimal] = []
    left = target
    while left > Decimal("50"):
        cents = rng.randint(8_000, max(8_001, min(900_000, int(target * 30))))
        piece = (Decimal(cents) / HUNDRED).quantize(money.CENT)
        if piece > left:
            # The last one: what is left, less a few yuan and cents, so totals are not round.
            out.append(left - Decimal(rng.randint(1, 4_999)) / HUNDRED)
            break
        out.append(piece)
        left -= piece
    return out


def _rates(rng, profile: str, year: int, today: date) -> dict[str, Decimal]:
    """Share of each line to spend: by the profile, and for this year by the part of the year gone."""
    if year < today.year:
        lo, hi = (32, 48) if profile == "under" else (85, 99)
        return {c: Decimal(rng.randint(lo, hi)) / HUNDRED for c in PLAN}
    gone = Decimal((today - date(year, 1, 1)).days + 1) / Decimal(365)
    rates = {}
    for code in PLAN:
        if profile == "under":
            rates[code] = Decimal(rng.randint(20, 42)) / HUNDRED
        else:
            rates[code] = min(Decimal("0.98"), gone * Decimal(rng.randint(88, 104)) / HUNDRED)
    if profile == "over":
        rates["care"] = Decimal(rng.randint(112, 125)) / HUNDRED
    return rates


def _day(rng, year: int, today: date) -> date:
    first, last = date(year, 1, 1), min(date(year, 12, 31), today)
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _activities(years: tuple[int, int], today: date) -> dict[tuple[int, int, str], list[tuple[int, date]]]:
    """(unit, year, kind) → [(id, day)] of what spending may serve: meetings, study sessions, care cases."""
    from django.utils import timezone

    from sizheng.care.models import CareCase
    from sizheng.life.models import Meeting
    from sizheng.org.models import Org
    from sizheng.study.models import StudySession

    units_of: dict[int, list[int]] = defaultdict(list)
    for org_id, unit_id in Org.units.through.objects.order_by("org_id", "unit_id").values_list(
        "org_id", "unit_id"
    ):
        units_of[org_id].append(unit_id)
    out: dict[tuple[int, int, str], list[tuple[int, date]]] = defaultdict(list)
    meetings = (
        Meeting.objects.counted()
        .filter(kind__in=("theme_day", "party_lecture"), starts_at__year__in=years)
        .order_by("starts_at", "pk")
        .values_list("pk", "org_id", "starts_at")
    )
    for pk, org_id, at in meetings:
        day = timezone.localdate(at)
        for u in units_of[org_id]:
            out[(u, day.year, "meeting")].append((pk, day))
    sessions = (
        StudySession.objects.filter(meeting__starts_at__year__in=years)
        .order_by("meeting__starts_at", "pk")
        .values_list("pk", "meeting__org_id", "meeting__starts_at")
    )
    for pk, org_id, at in sessions:
        day = timezone.localdate(at)
        for u in units_of[org_id]:
            out[(u, day.year, "study_session")].append((pk, day))
    # Ids, units and dates only: a care case's details never leave the care app.
    for pk, unit_id, at in CareCase.objects.order_by("opened_at", "pk").values_list(
        "pk", "unit_id", "opened_at"
    ):
        day = timezone.localdate(at)
        if day.year in years:
            out[(unit_id, day.year, "care_case")].append((pk, day))
    return {k: [(pk, d) for pk, d in v if d <= today] for k, v in out.items()}


@generator("funds.history", order=350, label="经费保障：两年的预算与支出")
def demo_funds(ctx) -> None:
    """Budgets and spending of every unit for last year and this year (skipped when budgets exist)."""
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from sizheng.funds.jobs import execution_warnings
    from sizheng.funds.models import Budget, BudgetLine, Spending
    from sizheng.org.models import Person, Unit

    if Budget.objects.exists():
        ctx.log("  已有经费预算，跳过经费保障。")
        return
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    years = (today.year - 1, today.year)
    units = list(Unit.objects.filter(is_active=True).order_by("order", "pk").values_list("pk", flat=True))
    if not units:
        ctx.log("  没有单位，跳过经费保障。")
        return
    members = dict(
        Person.objects.current()
        .party_members()
        .values("unit_id")
        .annotate(n=Count("pk"))
        .values_list("unit_id", "n")
    )
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")
    activities = _activities(years, today)
    shuffled = list(units)
    rng.shuffle(shuffled)
    n_under = max(1, round(len(units) / 7))
    profile = dict.fromkeys(units, "normal")
    for u in shuffled[:n_under]:
        profile[u] = "under"
    if len(shuffled) > n_under:
        profile[shuffled[n_under]] = "over"

    budgets: list[Budget] = []
    lines_of: list[dict[str, Decimal]] = []
    spending: list[Spending] = []
    for u in units:
        for year in years:
            lines = _budget_lines(rng, members.get(u, 0))
            drawn_up = min(now, datetime(year, 1, rng.randint(8, 25), 10, tzinfo=tz))
            budgets.append(Budget(unit_id=u, year=year, created_by_id=gongwei, note=f"{year}年度党建工作经费预算",
                                  created_at=drawn_up, updated_at=drawn_up))  # fmt: skip
            lines_of.append(lines)
            rates = _rates(
                rng, profile[u] if year == today.year or profile[u] == "under" else "normal", year, today
            )
            for code, (_share, purposes) in PLAN.items():
                pool = [
                    (kind, a) for kind in SERVES.get(code, ()) for a in activities.get((u, year, kind), [])
                ]
                for amount in _pieces(rng, (lines[code] * rates[code]).quantize(money.CENT)):
                    kind, ref, day = "", None, _day(rng, year, today)
                    if pool and rng.random() < LINK_SHARE:
                        kind, (ref, held) = rng.choice(pool)
                        day = min(today, held + timedelta(days=rng.randint(0, 5)), date(year, 12, 31))
                    spending.append(Spending(unit_id=u, spent_on=day, amount=amount, category=code,
                                             purpose=rng.choice(purposes), activity_kind=kind, activity_id=ref,
                                             created_by_id=gongwei, created_at=now))  # fmt: skip
    with transaction.atomic():
        Budget.objects.bulk_create(budgets, batch_size=BATCH)
        BudgetLine.objects.bulk_create(
            (BudgetLine(budget=b, category=c, amount=a) for b, lines in zip(budgets, lines_of, strict=True)
             for c, a in lines.items()),
            batch_size=BATCH,
        )  # fmt: skip
        Spending.objects.bulk_create(spending, batch_size=BATCH)
    raised = execution_warnings(today)["raised"]
    under = sum(1 for p in profile.values() if p == "under")
    ctx.log(f"  经费预算 {len(budgets)} 份，支出 {len(spending)} 笔（执行偏慢的单位 {under} 个，超支 1 个），"
            f"派发经费执行预警事项 {raised} 项。")  # fmt: skip
