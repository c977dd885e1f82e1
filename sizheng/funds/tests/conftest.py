"""Fixtures of the funds tests: the persona cast plus the people who manage a unit's funds.

In the cast nobody holds a post in a unit's root org (shuji_a is the secretary of branch A1, below
unit A's 机关党委), so the funds tests appoint a secretary of 市财政局机关委员会 (``manager``) and
one of 市司法局机关支部委员会 (``manager_c``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from sizheng.core.models import User
from sizheng.funds import services
from sizheng.funds.models import Budget, Spending
from sizheng.org.models import OrgRole
from sizheng.org.testing import Cast, appoint, make_person


@dataclass
class FundsCast:
    """The cast and the two unit managers."""

    cast: Cast
    manager: User  # secretary of unit A's root org (市财政局机关委员会)
    manager_c: User  # secretary of unit C's root org (市司法局机关支部委员会)

    def __getattr__(self, name):
        return getattr(self.cast, name)


@pytest.fixture
def fc(cast) -> FundsCast:
    boss = make_person("钱进", cast.unit_a, org=cast.branch_a2, office=cast.office_a1, username="caiwu")
    appoint(boss, cast.committee_a, OrgRole.Title.SECRETARY)
    boss_c = make_person("郑义", cast.unit_c, org=cast.branch_c, username="sifa")
    appoint(boss_c, cast.branch_c, OrgRole.Title.SECRETARY)
    return FundsCast(cast=cast, manager=boss.user, manager_c=boss_c.user)


def budget(fc, unit=None, year=2026, **amounts) -> Budget:
    """A yearly budget through the service (every category given or 0)."""
    amounts = {k: Decimal(v) for k, v in amounts.items()} or {
        "study": Decimal("30000.00"),
        "position": Decimal("20000.00"),
        "care": Decimal("15000.00"),
        "activity": Decimal("25000.00"),
        "training": Decimal("8000.00"),
        "other": Decimal("2000.00"),
    }
    b, _ = services.budget_save(actor=fc.committee_admin, unit=unit or fc.unit_a, year=year, amounts=amounts)
    return b


def spend(
    fc, amount: str, *, unit=None, on=date(2026, 3, 10), category="study", purpose="购买学习资料", **kw
) -> Spending:
    """A spending record through the service."""
    return services.spending_record(
        actor=fc.committee_admin, unit=unit or fc.unit_a, spent_on=on, amount=Decimal(amount),
        category=category, purpose=purpose, **kw,
    )  # fmt: skip
