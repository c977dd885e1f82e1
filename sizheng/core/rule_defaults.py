"""The national default rules of rules.md §1–§4 as data (pure; administrators add local rules).

Each rule cites its rule ID from rules.md. Severity follows the quantifier: 一般 → warning,
至少/应当 → violation. Rules marked ``local=True`` are common local practice, not national
text (BR-LEC-1's "每季度1次", the central-group minimums of §4). Timing rules ("一般在第四季度")
are separate rules with a ``-Q4`` id suffix, so a meeting held outside Q4 is a warning on the
timing rule while the yearly rule stays met.
"""

from __future__ import annotations

from sizheng.core.rules import Rule

_BRANCH_REG = "《中国共产党支部工作条例（试行）》（2018）"
_DLM_REG = "《县以上党和国家机关党员领导干部民主生活会若干规定》（2016）"
_CGS_REG = "《中国共产党党委（党组）理论学习中心组学习规则》（2017）"

BRANCH = frozenset({"branch"})
GROUP = frozenset({"group"})
LEADING_GROUP = frozenset({"leading_group"})

DEFAULT_RULES: list[Rule] = [
    Rule(
        id="BR-MTG-1",
        activity="members_meeting",
        activity_label="党员大会",
        verb="召开",
        org_kinds=BRANCH,
        count=1,
        period="quarter",
        severity="warning",
        label="党员大会一般每季度召开1次",
        source=f"BR-MTG-1 · {_BRANCH_REG}：支部党员大会原则上每个季度开一次。",
    ),
    Rule(
        id="BR-MTG-2",
        activity="committee_meeting",
        activity_label="支委会",
        verb="召开",
        org_kinds=BRANCH,
        count=1,
        period="month",
        severity="warning",
        label="支委会一般每月召开1次",
        source=f"BR-MTG-2 · {_BRANCH_REG}：支部委员会原则上每月开一次会；未设支委会的支部可登记豁免。",
    ),
    Rule(
        id="BR-MTG-3",
        activity="group_meeting",
        activity_label="党小组会",
        verb="召开",
        org_kinds=GROUP,
        count=1,
        period="month",
        severity="warning",
        label="党小组会一般每月召开1次",
        source=f"BR-MTG-3 · {_BRANCH_REG}：党小组原则上每月开一次会。",
    ),
    Rule(
        id="BR-DAY-1",
        activity="theme_day",
        activity_label="主题党日",
        org_kinds=BRANCH,
        count=1,
        period="month",
        severity="warning",
        label="主题党日每月开展1次",
        source=f"BR-DAY-1 · {_BRANCH_REG}：每月选定相对固定的一天开展主题党日，时间一般不少于半天。",
    ),
    Rule(
        id="BR-OLM-1",
        activity="life_meeting",
        activity_label="组织生活会",
        verb="召开",
        org_kinds=BRANCH,
        count=1,
        period="year",
        severity="violation",
        label="组织生活会每年至少召开1次",
        source=f"BR-OLM-1 · {_BRANCH_REG}：支部每年至少开一次组织生活会。",
    ),
    Rule(
        id="BR-OLM-1-Q4",
        activity="life_meeting",
        activity_label="组织生活会",
        verb="召开",
        org_kinds=BRANCH,
        count=1,
        period="year",
        within="Q4",
        severity="warning",
        label="组织生活会一般在第四季度召开",
        source=f"BR-OLM-1 · {_BRANCH_REG}：组织生活会一般安排在第四季度。",
    ),
    Rule(
        id="BR-EVAL-1",
        activity="member_appraisal",
        activity_label="民主评议党员",
        org_kinds=BRANCH,
        count=1,
        period="year",
        severity="warning",
        label="民主评议党员一般每年开展1次",
        source=f"BR-EVAL-1 · {_BRANCH_REG}：民主评议党员一般每年进行一次，可与组织生活会结合进行。",
    ),
    Rule(
        id="DLM-2",
        activity="democratic_life_meeting",
        activity_label="民主生活会",
        verb="召开",
        org_kinds=LEADING_GROUP,
        count=1,
        period="year",
        severity="violation",
        label="民主生活会每年召开1次",
        source=f"DLM-2 · {_DLM_REG}：领导班子每年召开一次民主生活会。",
    ),
    Rule(
        id="DLM-2-Q4",
        activity="democratic_life_meeting",
        activity_label="民主生活会",
        verb="召开",
        org_kinds=LEADING_GROUP,
        count=1,
        period="year",
        within="Q4",
        severity="warning",
        label="民主生活会一般在第四季度召开",
        source=f"DLM-2 · {_DLM_REG}：民主生活会一般在第四季度召开，改期须经上级组织同意（可登记豁免）。",
    ),
    Rule(
        id="BR-LEC-1",
        activity="party_lecture",
        activity_label="党课",
        verb="讲",
        org_kinds=BRANCH,
        count=1,
        period="quarter",
        severity="warning",
        local=True,
        label="党课每季度1次（地方规定）",
        source=f"BR-LEC-1 · {_BRANCH_REG}只要求党员按期参加党课，未定次数；每季度一次为常见的地方规定。",
    ),
    Rule(
        id="CGS-1",
        activity="central_group_study",
        activity_label="中心组学习",
        org_kinds=LEADING_GROUP,
        count=6,
        period="year",
        severity="warning",
        local=True,
        label="中心组学习每年不少于6次（地方规定）",
        source=f"rules.md §4 · {_CGS_REG}未定全国统一次数；每年不少于6次为常见的地方规定。",
    ),
    Rule(
        id="CGS-2",
        activity="central_group_study",
        activity_label="中心组学习",
        org_kinds=LEADING_GROUP,
        count=1,
        period="quarter",
        severity="warning",
        local=True,
        label="中心组学习每季度不少于1次（地方规定）",
        source=f"rules.md §4 · {_CGS_REG}未定全国统一次数；每季度至少一次为常见的地方规定。",
    ),
    Rule(
        id="BR-TALK-1",
        activity="talk",
        activity_label="谈心谈话",
        org_kinds=BRANCH,
        count=1,
        period="year",
        severity="warning",
        label="谈心谈话每年一般不少于1次",
        source=f"BR-TALK-1 · {_BRANCH_REG}：支委之间、支委与党员、党员之间每年一般至少谈心谈话一次。",
    ),
]

DEFAULT_RULES_BY_ID: dict[str, Rule] = {r.id: r for r in DEFAULT_RULES}
