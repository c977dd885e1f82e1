"""Fixtures of the assessment tests: the persona cast plus an assessor, an expert and a small system.

``ac.assessor`` (kaohe) holds the assessor role over everything but sees only the targets assigned to
them; ``ac.expert`` (zhuanjia) holds the expert role and has no ``Person``. ``ac.unit_boss`` is the
secretary of unit A's root org (市财政局机关委员会), who fills unit A's self-assessment.

``small_system`` is built with the ORM (not the services, which are tested themselves): two level-1
indicators, four scored leaves covering the four rule kinds and sources, one bonus and one veto::

    1 党建责任 (0.6)            1.1 责任清单完成 (0.5, metric duties.on_time_rate, linear 50→100)
                                1.2 组织生活 (0.5, assessor, direct)
    2 群众满意 (0.4)            2.1 满意率 (0.7, self_assessor, bands)
                                2.2 违纪事项 (0.3, assessor, deduction 5 per event, max 20)
    B1 表彰加分 (bonus, assessor, 2 per event, max 4)        V1 一年未开展组织生活 (veto, assessor)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sizheng.assess.models import (
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    RuleKind,
    SystemState,
    ValueSource,
)
from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.testing import TEST_PASSWORD
from sizheng.org.models import OrgRole
from sizheng.org.testing import Cast, appoint, make_person


@dataclass
class AssessCast:
    cast: Cast
    assessor: User
    expert: User
    unit_boss: User

    def __getattr__(self, name):
        return getattr(self.cast, name)


@pytest.fixture
def ac(cast) -> AssessCast:
    assessor = User.objects.create_user(username="kaohe", password=TEST_PASSWORD)
    RoleGrant.objects.create(user=assessor, role=Role.ASSESSOR, scope_kind=RoleGrant.ScopeKind.ALL)
    expert = User.objects.create_user(username="zhuanjia", password=TEST_PASSWORD)
    RoleGrant.objects.create(user=expert, role=Role.EXPERT, scope_kind=RoleGrant.ScopeKind.ALL)
    boss = make_person("钱进", cast.unit_a, org=cast.branch_a2, office=cast.office_a1, username="caiwu")
    appoint(boss, cast.committee_a, OrgRole.Title.SECRETARY)
    return AssessCast(cast=cast, assessor=assessor, expert=expert, unit_boss=boss.user)


def build_small_system(*, year: int = 2026, state: str = SystemState.PUBLISHED) -> IndicatorSystem:
    system = IndicatorSystem.objects.create(name="测试体系", year=year, state=state, bonus_cap=4,
                                            caps=[{"indicator": "2.1", "below": 90, "max_grade": "一般",
                                                   "label": "满意率低于 90%"}])  # fmt: skip
    top1 = Indicator.objects.create(system=system, code="1", name="党建责任", weight=0.6, order=1)
    top2 = Indicator.objects.create(system=system, code="2", name="群众满意", weight=0.4, order=2)
    S, R = ValueSource, RuleKind
    Indicator.objects.create(system=system, parent=top1, code="1.1", name="责任清单完成", weight=0.5, order=1,
                             source=S.METRIC, metric_name="duties.on_time_rate", rule_kind=R.LINEAR,
                             rule={"zero_at": 50, "full_at": 100})  # fmt: skip
    Indicator.objects.create(system=system, parent=top1, code="1.2", name="组织生活", weight=0.5, order=2,
                             source=S.ASSESSOR, rule_kind=R.DIRECT, max_score=10)  # fmt: skip
    Indicator.objects.create(system=system, parent=top2, code="2.1", name="满意率", weight=0.7, order=1,
                             source=S.SELF_ASSESSOR, rule_kind=R.BANDS,
                             rule={"bands": [{"min": 90, "score": 100}, {"min": 80, "score": 80},
                                             {"min": 60, "score": 60}, {"min": None, "score": 0}]})  # fmt: skip
    Indicator.objects.create(system=system, parent=top2, code="2.2", name="违纪事项", weight=0.3, order=2,
                             source=S.ASSESSOR, rule_kind=R.DEDUCTION,
                             rule={"per_event": 5, "max_deduction": 20}, max_score=20)  # fmt: skip
    Indicator.objects.create(system=system, code="B1", name="表彰加分", kind=IndicatorKind.BONUS, order=3,
                             source=S.ASSESSOR, rule_kind=R.DEDUCTION, rule={"per_event": 2}, max_score=4)  # fmt: skip
    Indicator.objects.create(system=system, code="V1", name="一年未开展组织生活", kind=IndicatorKind.VETO,
                             order=4, source=S.ASSESSOR)  # fmt: skip
    return system


@pytest.fixture
def small_system(db) -> IndicatorSystem:
    return build_small_system()
