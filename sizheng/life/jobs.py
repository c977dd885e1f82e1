"""Periodic jobs of organisational life (meetings part): the monthly political-birthday reminder."""

from __future__ import annotations

from datetime import time

from django.urls import reverse
from django.utils import timezone

from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.scheduler import periodic, remind
from sizheng.life import birthdays
from sizheng.org.models import Org


@periodic("life.birthday_reminders", at=time(8, 0), label="政治生日提醒")
def birthday_reminders() -> int:
    """On the month's first workday, tell each branch secretary who celebrates a 政治生日 this month."""
    today = timezone.localdate()
    if today != birthdays.first_workday(today.year, today.month):
        return 0
    branches = list(Org.objects.active_on(today).filter(kind=Org.Kind.BRANCH).order_by("path"))
    if not branches:
        return 0
    by_org: dict[int, list[birthdays.Birthday]] = {}
    people = birthdays.members_of(Org.objects.filter(pk__in=[b.pk for b in branches]))
    paths = {b.pk: b.path for b in branches}
    for b in birthdays.in_month(people, today.year, today.month):
        # A member of a 党小组 belongs to the branch above it: the branch whose path is a prefix.
        owner = next((pk for pk, p in paths.items() if b.person.org.path.startswith(p)), None)
        if owner is not None:
            by_org.setdefault(owner, []).append(b)
    grants = RoleGrant.objects.in_force(today).filter(
        role=Role.SECRETARY, scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=list(by_org)
    )
    secretaries: dict[int, set[int]] = {}
    for user_id, scope_id in grants.values_list("user_id", "scope_id"):
        secretaries.setdefault(scope_id, set()).add(user_id)
    users = User.objects.in_bulk({u for ids in secretaries.values() for u in ids})
    sent = 0
    url = reverse("life:birthdays")
    for org_id, rows in by_org.items():
        recipients = [users[u] for u in secretaries.get(org_id, ()) if u in users]
        names = "、".join(f"{b.person.name}（{b.on:%m月%d日}，党龄{b.years}年）" for b in rows)
        if recipients and remind(
            f"birthdays:{org_id}:{today:%Y-%m}",
            recipients,
            title=f"本月有 {len(rows)} 位同志过政治生日",
            body=f"本月过政治生日的同志：{names}。可以结合主题党日集体过政治生日、重温入党誓词。",
            url=url,
        ):
            sent += 1
    return sent
