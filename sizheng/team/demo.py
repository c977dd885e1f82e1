"""Demo data: the 思政 team register of the demo city, for last year and this year.

- Every branch's 书记 and 组织委员 (current and previous term) as **part-time 党务干部** of the branch;
  a previous term's post ended with the term ("任期届满") or with the branch ("组织撤销").
- Each 机关党委 / 党总支 with ≥ 50 members gets **full-time 党务干部**: its 党务干部 post holder and, for
  a 机关党委, its 专职副书记 — except a couple, kept with part-time staff only, so TEAM-1 shows gaps.
- Each unit's top org has a part-time 群团干部 (机关工会主席) and, in a 机关党委, a 政工干部 from 人事处.
- Each branch a **思政骨干**: young members (≤ 35) as 青年干部, some 先进典型 and 宣讲骨干 — except a couple of
  branches, so TEAM-2 shows gaps; a few earlier 骨干 left the register last year ("调离本单位").
- Full-time cadres have a training or two outside the platform (上级调训, 党校培训) over the two years.

Training hours are not written: they come from the meetings ``life.demo`` recorded (一次填报，多处使用).
History is written with bulk inserts, not through ``services``: no audit rows, no notifications.
Deterministic from the generator's stream.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sizheng.core.demo import generator

BATCH = 2000
YOUNG_AGE = 35

QUALIFICATIONS = [
    "市委党校中青年干部培训班结业",
    "全市机关党务干部示范培训班结业",
    "心理健康教育指导员培训合格",
    "基层党组织书记轮训结业",
    "党建工作指导员",
    "思想政治工作研究会会员",
    "全市优秀党务工作者（表彰）",
    "国家二级心理咨询师",
]
EXTERNAL = [
    ("summoned", "全市机关党务干部示范培训班", "市直机关工委", 5),
    ("party_school", "市委党校党务干部专题培训班", "市委党校", 3),
    ("summoned", "全省机关党建工作骨干培训班", "省直机关工委", 7),
    ("party_school", "基层党组织书记轮训", "市委党校", 4),
]


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@generator("team.register", order=360, label="思政队伍：名册、调训、配备缺口")
def demo_team(ctx) -> None:  # noqa: C901 (one pass over the city, in order)
    """The register, trainings outside the platform and a couple of gaps (skipped when a register exists)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.org.access import ancestor_ids
    from sizheng.org.models import PARTY_STATUSES, Org, OrgRole, Person
    from sizheng.team.coverage import member_counts
    from sizheng.team.models import ExternalTraining, TeamMember

    if TeamMember.objects.exists():
        ctx.log("  已有队伍名册，跳过思政队伍。")
        return
    rng = ctx.rng
    today = timezone.localdate()
    T = OrgRole.Title
    K = Org.Kind
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")

    orgs = list(
        Org.objects.order_by("path").values(
            "pk", "name", "kind", "path", "depth", "parent_id", "founded_on", "dissolved_on"
        )
    )
    by_pk = {o["pk"]: o for o in orgs}
    counts = member_counts(orgs, today)
    people = {
        p["pk"]: p
        for p in Person.objects.order_by("pk").values(
            "pk",
            "org_id",
            "unit_id",
            "birth_date",
            "is_leader",
            "left_on",
            "political_status",
            "office__name",
        )
    }
    posts = list(
        OrgRole.objects.order_by("org_id", "starts_on", "pk").values_list(
            "org_id", "person_id", "title", "starts_on", "ends_on"
        )
    )
    holders: dict[tuple[int, str], list[int]] = defaultdict(list)  # current posts
    for org_id, pid, title, starts, ends in posts:
        if starts <= today and (ends is None or ends >= today):
            holders[(org_id, title)].append(pid)
    members_of: dict[int, list[int]] = defaultdict(list)  # current party members by own org
    for p in people.values():
        if p["org_id"] and p["left_on"] is None and p["political_status"] in PARTY_STATUSES:
            members_of[p["org_id"]].append(p["pk"])

    below: dict[int, list[int]] = defaultdict(list)  # org → itself and every org under it
    for o in orgs:
        for anc in ancestor_ids(o["path"]):
            below[anc].append(o["pk"])

    def subtree_members(org: dict) -> list[int]:
        return [pid for d in below[org["pk"]] for pid in members_of.get(d, [])]

    entries: list[TeamMember] = []
    covers: list[list[int]] = []
    open_keys: set[tuple[int, str, int]] = set()

    def add(pid, org, role, since, *, full=False, position="", until=None, reason="", subtype="", quals=0):
        """One entry (an open one only once per person, role and org)."""
        if until is None:
            if (pid, role, org["pk"]) in open_keys or people[pid]["left_on"] is not None:
                return
            open_keys.add((pid, role, org["pk"]))
        quals_text = "\n".join(rng.sample(QUALIFICATIONS, quals)) if quals else ""
        entries.append(TeamMember(person_id=pid, org_id=org["pk"], role=role, subtype=subtype, is_full_time=full,
                                  position=position, qualifications=quals_text, since=since, until=until,
                                  end_reason=reason, created_by_id=gongwei))  # fmt: skip
        covers.append([org["pk"]])

    # Branch secretaries and organisation committee members: part-time 党务干部 (with their terms).
    branches = [o for o in orgs if o["kind"] == K.BRANCH]
    for org_id, pid, title, starts, ends in posts:
        org = by_pk[org_id]
        if org["kind"] != K.BRANCH or title not in (T.SECRETARY, T.ORGANIZATION):
            continue
        label = "支部书记" if title == T.SECRETARY else "组织委员"
        ended = ends is not None and ends < today
        reason = ""
        if ended:
            gone = org["dissolved_on"] and org["dissolved_on"] <= ends + timedelta(days=1)
            reason = "组织撤销" if gone else "任期届满"
        add(pid, org, "party_cadre", starts, position=f"{label}（兼）", until=ends if ended else None,
            reason=reason, quals=rng.choice([0, 0, 1]))  # fmt: skip

    # Top orgs (机关党委 / 党总支): full-time 党务干部 where ≥ 50 members, but for a couple (the TEAM-1 gaps).
    tops = [o for o in orgs if o["depth"] == 1 and o["kind"] in (K.COMMITTEE, K.GENERAL_BRANCH)
            and not o["dissolved_on"]]  # fmt: skip
    big = [o for o in tops if counts.get(o["pk"], 0) >= 50]
    n_gaps = min(max(1, round(2 * ctx.scale)), len(big) - 1) if len(big) >= 2 else 0
    gap_tops = {o["pk"] for o in rng.sample(big, n_gaps)}
    big_ids = {o["pk"] for o in big}
    for o in tops:
        kind = "机关党委" if o["kind"] == K.COMMITTEE else "党总支"
        full = o["pk"] in big_ids and o["pk"] not in gap_tops
        staff = holders.get((o["pk"], T.PARTY_AFFAIRS), [])
        deputies = holders.get((o["pk"], T.DEPUTY_SECRETARY), [])
        pool = [p for p in subtree_members(o) if not people[p]["is_leader"]]
        if full and not staff and pool:
            staff = [rng.choice(pool)]
        since = date(today.year - rng.randint(1, 4), rng.randint(1, 12), 1)
        for pid in staff:
            add(pid, o, "party_cadre", since, full=full, position=f"{kind}{'专职' if full else ''}党务干部",
                quals=rng.randint(1, 3))  # fmt: skip
        if o["kind"] == K.COMMITTEE:
            for pid in deputies:
                add(pid, o, "party_cadre", since, full=full,
                    position=f"{kind}{'专职' if full else ''}副书记", quals=rng.randint(1, 2))  # fmt: skip
        for pid in holders.get((o["pk"], T.ORGANIZATION), []):
            add(pid, o, "party_cadre", since, position=f"{kind}组织委员（兼）")
        if pool:
            add(
                rng.choice(pool),
                o,
                "mass_cadre",
                since,
                position="机关工会主席（兼）",
                quals=rng.choice([0, 1]),
            )
            young = [p for p in pool if (_age(people[p]["birth_date"], today) or 99) <= YOUNG_AGE]
            if young and o["kind"] == K.COMMITTEE:
                add(rng.choice(young), o, "mass_cadre", since, position="机关团委书记（兼）")
        if o["kind"] == K.COMMITTEE:
            hr = [p for p in pool if people[p]["office__name"] in ("人事处", "政治处")]
            if hr:
                add(rng.choice(hr), o, "political_cadre", since, position="人事处政工干部（兼）", quals=1)

    # A 思政骨干 for each live branch with members, but for a couple (the TEAM-2 gaps).
    live = [b for b in branches if not b["dissolved_on"] and counts.get(b["pk"], 0) > 0]
    skip = {b["pk"] for b in rng.sample(live, min(len(live) - 1, max(1, round(2 * ctx.scale))))} if len(live) > 1 else set()  # fmt: skip
    for b in live:
        if b["pk"] in skip:
            continue
        busy = {pid for (org_id, _t), pids in holders.items() if org_id == b["pk"] for pid in pids}
        mine = subtree_members(b)
        pool = [p for p in mine if p not in busy and not people[p]["is_leader"]] or mine
        pid = rng.choice(pool)
        age = _age(people[pid]["birth_date"], today) or 99
        if age <= YOUNG_AGE:
            subtype, position = "young_cadre", "青年理论学习骨干"
        else:
            subtype, position = rng.choice(
                [("advanced_model", "先进典型"), ("lecturer", "理论宣讲员"), ("", "思政工作联络员")]
            )
        since = today - timedelta(days=rng.randint(30, 1100))
        if rng.random() < 0.08:
            # An earlier 骨干 left last year; the current one took over.
            others = [p for p in pool if p != pid]
            if others:
                start = date(today.year - 3, rng.randint(1, 12), 1)
                add(rng.choice(others), b, "backbone", start, until=date(today.year - 1, rng.randint(3, 11), 15),
                    reason="调离本单位", subtype="young_cadre")  # fmt: skip
                since = max(since, date(today.year - 1, 12, 1))
        add(pid, b, "backbone", since, subtype=subtype, position=position, quals=rng.choice([0, 1]))

    with transaction.atomic():
        TeamMember.objects.bulk_create(entries, batch_size=BATCH)
        through = TeamMember.covers.through
        through.objects.bulk_create(
            [through(teammember_id=m.pk, org_id=org_id) for m, ids in zip(entries, covers, strict=True) for org_id in ids],
            batch_size=BATCH,
        )  # fmt: skip
        trainings = []
        for m in entries:
            if not m.is_full_time:
                continue
            for year in (today.year - 1, today.year):
                if rng.random() < 0.6:
                    kind, title, organiser, days = rng.choice(EXTERNAL)
                    last = 12 if year < today.year else max(1, today.month - 1)
                    start = date(year, rng.randint(1, last), rng.randint(1, 20))
                    end = start + timedelta(days=days - 1)
                    if end >= today:
                        continue
                    trainings.append(ExternalTraining(member=m, kind=kind, title=f"{year}年{title}",
                                                      organiser=organiser, starts_on=start, ends_on=end,
                                                      days=Decimal(days), created_by_id=gongwei))  # fmt: skip
        ExternalTraining.objects.bulk_create(trainings, batch_size=BATCH)
    full = sum(1 for m in entries if m.is_full_time)
    ctx.log(f"  队伍名册 {len(entries)} 条（专职 {full} 条），平台外培训 {len(trainings)} 条。")
