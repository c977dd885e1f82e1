"""民主评议党员 (BR-EVAL-1/2): who may see and do what, and every write of an appraisal.

Flow: the branch opens the year's appraisal (entries for its current party members from the roster) →
each member writes a self-assessment (个人自评) → the branch's secretary records the peer review
summary (党员互评), the democratic rating (民主测评: votes per grade) and the proposed grade → the
branch proposes (more than 1/3 优秀 needs a written reason and is flagged to the higher org) → the
higher org approves (final grade = proposed grade) or returns it to open with an opinion.

Visibility of one member's entry (self-assessment, peer summary, rating, grades):

* the member themself, always;
* the branch's own secretary / org admin (a post on *this* org, not an ancestor's) — "runs" it;
* the approving higher org (manages the parent org, or the committee admin) only while the
  appraisal is awaiting approval (state ``proposed``);
* nobody else: other members, leaders, counselors and outsiders see at most that the appraisal
  exists and its state. Aggregate counts by grade are shown only to those who run or approve it,
  and, for the approvers, only for branches of at least ``MIN_AGGREGATE`` members.

Writes of entries bump the appraisal's ``version`` so that a propose or approve form filled in before
an entry changed answers 409; propose and approve are compare-and-swap on ``version``.
"""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from sizheng.core import audit, notify
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant, User
from sizheng.life.models import Appraisal, AppraisalEntry, Grade, Meeting, MeetingKind
from sizheng.org import access
from sizheng.org.models import Org, Person

# Aggregates by grade for groups smaller than this would let a reader work out a person's grade.
MIN_AGGREGATE = 5
CONFLICT = "该民主评议已被他人修改，请刷新页面后重新操作。"
ENTRY_FIELDS = ("self_assessment", "peer_summary", "rating", "proposed_grade", "final_grade")


# --- who may do what ---------------------------------------------------------------------------


def runs_appraisal(user, org: Org) -> bool:
    """The branch's own secretary or org admin (a post on this very org)."""
    scope = access.scope_of(user)
    return org.path in scope.paths(Role.SECRETARY, Role.ORG_ADMIN)


def may_open(user, org: Org) -> bool:
    """May open an appraisal for this org (manages it; the party group of a unit has none)."""
    return org.kind != Org.Kind.LEADING_GROUP and access.manages_org(user, org)


def approves_appraisal(user, org: Org) -> bool:
    """The higher org: manages the parent org, or the committee admin."""
    if access.scope_of(user).has_everything(Role.COMMITTEE_ADMIN):
        return True
    return org.parent_id is not None and access.manages_org(user, org.parent)


def sees_entries(user, appraisal: Appraisal) -> bool:
    """May see every member's entry of this appraisal (see the module docstring)."""
    if runs_appraisal(user, appraisal.org):
        return True
    return appraisal.state == Appraisal.State.PROPOSED and approves_appraisal(user, appraisal.org)


def sees_aggregate(user, appraisal: Appraisal, members: int) -> bool:
    """May see the counts by grade: whoever sees entries, and the higher org for groups of ≥ 5."""
    if runs_appraisal(user, appraisal.org):
        return True
    return members >= MIN_AGGREGATE and approves_appraisal(user, appraisal.org)


def visible_appraisals(user):
    """Appraisals whose existence and state the user may see (the org is in their scope)."""
    return Appraisal.objects.filter(org__in=Org.objects.visible_to(user).values("pk"))


def grade_counts(appraisals) -> dict[int, dict]:
    """{appraisal_id: {"members": n, "grades": {grade: count}}} in one query (final grade once
    approved, else the proposed one)."""
    ids = [a.pk for a in appraisals]
    out: dict[int, dict] = {pk: {"members": 0, "grades": Counter()} for pk in ids}
    if not ids:
        return out
    states = {a.pk: a.state for a in appraisals}
    rows = (
        AppraisalEntry.objects.filter(appraisal_id__in=ids)
        .values("appraisal_id", "proposed_grade", "final_grade")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        slot = out[row["appraisal_id"]]
        slot["members"] += row["n"]
        approved = states[row["appraisal_id"]] == Appraisal.State.APPROVED
        grade = row["final_grade"] if approved else row["proposed_grade"]
        if grade:
            slot["grades"][grade] += row["n"]
    return out


def excellent_exceeds(excellent: int, members: int) -> bool:
    """BR-EVAL-2: 优秀 一般不超过 1/3 of the members appraised (exactly 1/3 is within the rule)."""
    return excellent * 3 > members


# --- writes ------------------------------------------------------------------------------------


def _bump(appraisal: Appraisal, version: int | None = None, *, expect: str, **changes) -> None:
    """Compare-and-swap on the expected state (and on ``version`` when given), then bump the version."""
    qs = Appraisal.objects.filter(pk=appraisal.pk, state=expect)
    if version is not None:
        qs = qs.filter(version=version)
    if not qs.update(version=F("version") + 1, **changes):
        raise Conflict(CONFLICT)
    appraisal.refresh_from_db(fields=sorted({"version", "state", *changes}))


@transaction.atomic
def appraisal_open(*, actor, org: Org, year: int, meeting: Meeting | None = None) -> Appraisal:
    """Open the year's appraisal for a branch with an entry for each current party member."""
    if not may_open(actor, org):
        raise PermissionDenied("只有本支部的书记、党务干部或上级党组织可以开启民主评议。")
    if Appraisal.objects.filter(org=org, year=year).exists():
        raise ValidationError({"year": f"{org.name}{year}年的民主评议已经开启，每年只能开启一次。"})
    if meeting is not None and (meeting.org_id != org.pk or meeting.kind != MeetingKind.MEMBER_APPRAISAL):
        raise ValidationError({"meeting": "请选择本组织的“民主评议党员”会议记录，或留空。"})
    members = list(Person.objects.current().party_members().filter(org=org).order_by("pk"))
    if not members:
        raise ValidationError({"org": "该党组织目前没有党员，无法开启民主评议。请先在花名册中维护党员信息。"})
    appraisal = Appraisal.objects.create(org=org, year=year, meeting=meeting)
    AppraisalEntry.objects.bulk_create([AppraisalEntry(appraisal=appraisal, person=p) for p in members])
    audit.record(actor, "appraisal_open", appraisal, {"org": org.pk, "year": year, "members": len(members)})
    return appraisal


def _require_open(appraisal: Appraisal) -> None:
    if appraisal.state != Appraisal.State.OPEN:
        raise Conflict(f"该民主评议当前为“{appraisal.get_state_display()}”，不能再修改评议内容。")


@transaction.atomic
def entry_self_assess(*, actor, entry: AppraisalEntry, text: str) -> AppraisalEntry:
    """The member writes their own self-assessment (个人自评) while the appraisal is open."""
    appraisal = entry.appraisal
    if entry.person.user_id is None or entry.person.user_id != actor.pk:
        raise PermissionDenied("个人自评只能由党员本人填写。")
    _require_open(appraisal)
    if not text.strip():
        raise ValidationError({"self_assessment": "请填写个人自评。"})
    _bump(appraisal, expect=Appraisal.State.OPEN)
    AppraisalEntry.objects.filter(pk=entry.pk).update(self_assessment=text.strip())
    entry.self_assessment = text.strip()
    audit.record(actor, "appraisal_self_assess", entry, {"appraisal": appraisal.pk})
    return entry


def clean_rating(rating: dict, members: int) -> dict[str, int]:
    """Votes per grade: known grades, non-negative integers, total not above the number of members."""
    clean: dict[str, int] = {}
    for grade, votes in rating.items():
        if grade not in Grade.values:
            raise ValidationError({"rating": f"未知的等次：{grade}。"})
        if isinstance(votes, bool) or not isinstance(votes, int) or votes < 0:
            raise ValidationError({"rating": "民主测评票数必须是不小于 0 的整数。"})
        if votes:
            clean[grade] = votes
    if sum(clean.values()) > members:
        raise ValidationError(
            {"rating": f"民主测评总票数为 {sum(clean.values())}，不能超过参评党员人数 {members}。"}
        )
    return clean


@transaction.atomic
def entry_review(
    *, actor, entry: AppraisalEntry, peer_summary: str, rating: dict, proposed_grade: str
) -> AppraisalEntry:
    """The branch records the peer review summary, the democratic rating and the proposed grade."""
    appraisal = entry.appraisal
    if not runs_appraisal(actor, appraisal.org):
        raise PermissionDenied("只有本支部的书记或党务干部可以填写互评、测评和建议等次。")
    _require_open(appraisal)
    if proposed_grade and proposed_grade not in Grade.values:
        raise ValidationError({"proposed_grade": "请选择有效的等次。"})
    members = appraisal.entries.count()
    clean = clean_rating(rating, members)
    changes = {"peer_summary": peer_summary.strip(), "rating": clean, "proposed_grade": proposed_grade}
    changed = sorted(k for k, v in changes.items() if getattr(entry, k) != v)
    if changed:
        _bump(appraisal, expect=Appraisal.State.OPEN)
        AppraisalEntry.objects.filter(pk=entry.pk).update(**changes)
        for k, v in changes.items():
            setattr(entry, k, v)
        # Field names only: the content of an entry is personal and stays out of the audit trail.
        audit.record(actor, "appraisal_entry_review", entry, {"appraisal": appraisal.pk, "fields": changed})
    return entry


def higher_org_users(org: Org) -> list[User]:
    """The higher org's secretaries and org admins (the committee admins when it has none)."""
    users = []
    if org.parent_id is not None:
        user_ids = RoleGrant.objects.in_force().filter(
            role__in=[Role.SECRETARY, Role.ORG_ADMIN],
            scope_kind=RoleGrant.ScopeKind.ORG,
            scope_id=org.parent_id,
        )
        users = list(User.objects.filter(pk__in=user_ids.values("user_id"), is_active=True))
    if not users:
        admins = RoleGrant.objects.in_force().filter(role=Role.COMMITTEE_ADMIN)
        users = list(User.objects.filter(pk__in=admins.values("user_id"), is_active=True))
    return users


def branch_users(org: Org) -> list[User]:
    """The branch's own secretaries and org admins."""
    grants = RoleGrant.objects.in_force().filter(
        role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind=RoleGrant.ScopeKind.ORG, scope_id=org.pk
    )
    return list(User.objects.filter(pk__in=grants.values("user_id"), is_active=True))


@transaction.atomic
def appraisal_propose(*, actor, appraisal: Appraisal, version: int, excellent_reason: str = "") -> Appraisal:
    """Propose the grades to the higher org; more than 1/3 优秀 needs a reason and is flagged."""
    if not runs_appraisal(actor, appraisal.org):
        raise PermissionDenied("只有本支部的书记或党务干部可以提出建议等次。")
    _require_open(appraisal)
    grades = list(appraisal.entries.values_list("proposed_grade", flat=True))
    missing = sum(1 for g in grades if not g)
    if missing:
        raise ValidationError(f"还有 {missing} 名党员尚未确定建议等次，请逐一填写后再提交。")
    excellent = sum(1 for g in grades if g == Grade.EXCELLENT)
    flagged = excellent_exceeds(excellent, len(grades))
    reason = excellent_reason.strip()
    if flagged and not reason:
        raise ValidationError(
            {
                "excellent_reason": f"建议评为优秀的有 {excellent} 人，超过参评党员 {len(grades)} 人的三分之一"
                f"（优秀等次一般不超过三分之一），请写明理由后再提交。"
            }
        )
    _bump(
        appraisal,
        version,
        expect=Appraisal.State.OPEN,
        state=Appraisal.State.PROPOSED,
        excellent_reason=reason if flagged else "",
        is_flagged=flagged,
    )
    audit.record(actor, "appraisal_propose", appraisal, {"members": len(grades), "flagged": flagged})
    url = reverse("life:appraisal_detail", args=[appraisal.pk])
    if flagged:
        title = f"{appraisal.org.name}{appraisal.year}年民主评议优秀等次超过三分之一，请审核"
        body = (
            f"{appraisal.org.name}提出的{appraisal.year}年民主评议等次中，优秀 {excellent} 人，"
            f"超过参评党员 {len(grades)} 人的三分之一，支部已写明理由，请在审批时重点关注。"
        )
    else:
        title = f"{appraisal.org.name}{appraisal.year}年民主评议等次待审批"
        body = f"{appraisal.org.name}已提出{appraisal.year}年民主评议党员的建议等次，请审核。"
    notify.notify(higher_org_users(appraisal.org), title=title, body=body, url=url)
    return appraisal


@transaction.atomic
def appraisal_review(
    *, actor, appraisal: Appraisal, version: int, approve: bool, opinion: str = ""
) -> Appraisal:
    """The higher org approves the proposed grades (they become final) or returns them with an opinion."""
    if not approves_appraisal(actor, appraisal.org):
        raise PermissionDenied("只有上级党组织或机关工委可以审批民主评议结果。")
    if appraisal.state != Appraisal.State.PROPOSED:
        raise Conflict(f"该民主评议当前为“{appraisal.get_state_display()}”，不能审批。")
    url = reverse("life:appraisal_detail", args=[appraisal.pk])
    if approve:
        _bump(
            appraisal,
            version,
            expect=Appraisal.State.PROPOSED,
            state=Appraisal.State.APPROVED,
            approved_by=actor,
            approved_at=timezone.now(),
            return_opinion="",
        )
        appraisal.entries.update(final_grade=F("proposed_grade"))
        audit.record(actor, "appraisal_approve", appraisal)
        notify.notify(
            branch_users(appraisal.org),
            title=f"{appraisal.org.name}{appraisal.year}年民主评议结果已审批",
            body="上级党组织已同意支部提出的评议等次，党员可在“我的民主评议”中查看本人结果。",
            url=url,
        )
        return appraisal
    opinion = opinion.strip()
    if not opinion:
        raise ValidationError({"opinion": "退回时须写明退回意见。"})
    max_length = Appraisal._meta.get_field("return_opinion").max_length
    if len(opinion) > max_length:
        raise ValidationError(
            {"opinion": f"退回意见不能超过 {max_length} 字，当前为 {len(opinion)} 字，请精简后再提交。"}
        )
    _bump(
        appraisal,
        version,
        expect=Appraisal.State.PROPOSED,
        state=Appraisal.State.OPEN,
        is_flagged=False,
        return_opinion=opinion,
    )
    # The opinion is kept on the appraisal for the branch's page, not in the audit trail.
    audit.record(actor, "appraisal_return", appraisal)
    notify.notify(
        branch_users(appraisal.org),
        title=f"{appraisal.org.name}{appraisal.year}年民主评议已被退回",
        body=f"退回意见：{opinion}",
        url=url,
    )
    return appraisal


def openable_orgs_q(user) -> Q:
    """Orgs the user may open an appraisal for (a queryset filter; leading groups excluded)."""
    scope = access.scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        q = Q()
    else:
        q = Q(pk__in=[])
        for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
            q |= Q(path__startswith=p)
    return q & ~Q(kind=Org.Kind.LEADING_GROUP)
