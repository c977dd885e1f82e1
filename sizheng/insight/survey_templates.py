"""The three survey templates as data: 思想动态调查, 满意度测评 and 民主测评 (issue 7 item 1).

``survey_create(template=...)`` copies a template's dimensions and questions into the new survey,
where the builder may change them while the survey is a draft. Each template is a dict::

    {"title": str, "description": str,
     "dimensions": [{"name": str, "questions": [question, ...]}, ...],
     "questions": [question, ...]}          # questions outside any dimension, asked last

and each question ``{"kind": QuestionKind, "text": str, "options": [str, ...], "required": bool}``
(``options`` only for single and multiple choice; ``required`` defaults to True).

The 民主测评 template is generic on purpose (the assessment issue fills in which org is assessed):
one 好 / 较好 / 一般 / 差 choice per aspect of the org's leadership and work.
"""

from __future__ import annotations

from sizheng.insight.models import QuestionKind, Template

LIKERT, SINGLE, MULTI, RATING, TEXT = (
    QuestionKind.LIKERT,
    QuestionKind.SINGLE,
    QuestionKind.MULTI,
    QuestionKind.RATING,
    QuestionKind.TEXT,
)
DEMOCRATIC_OPTIONS = ["好", "较好", "一般", "差"]
PRESSURE_OPTIONS = ["很小", "较小", "一般", "较大", "很大"]


def _q(kind: str, text: str, options: list[str] | None = None, *, required: bool = True) -> dict:
    return {"kind": kind, "text": text, "options": list(options or []), "required": required}


THOUGHT = {
    "title": "思想动态调查",
    "description": (
        "为了解大家的工作状态、思想认识和实际困难，有针对性地做好思想政治工作，特开展本次调查。"
        "请根据自己的真实感受作答，约需 5 分钟。"
    ),
    "dimensions": [
        {
            "name": "工作状态",
            "questions": [
                _q(LIKERT, "我对目前的工作充满热情，愿意主动担当作为。"),
                _q(LIKERT, "我的工作任务量总体合理，能够在正常工作时间内完成。"),
                _q(LIKERT, "遇到工作难题时，我能得到领导和同事的支持与指导。"),
                _q(SINGLE, "近三个月，您感到工作压力如何？", PRESSURE_OPTIONS),
            ],
        },
        {
            "name": "思想认识",
            "questions": [
                _q(LIKERT, "我能够认真学习党的创新理论，并用来指导实际工作。"),
                _q(LIKERT, "我对本单位的发展前景充满信心。"),
                _q(LIKERT, "我清楚本单位今年的重点工作和自己在其中的职责。"),
            ],
        },
        {
            "name": "组织认同",
            "questions": [
                _q(LIKERT, "我认同本单位的工作作风和组织氛围。"),
                _q(LIKERT, "党组织能够经常听取并回应干部职工的意见。"),
                _q(
                    RATING,
                    "您在多大程度上愿意向朋友推荐到本单位工作？（0 分表示完全不愿意，10 分表示非常愿意）",
                ),
            ],
        },
        {
            "name": "生活与家庭",
            "questions": [
                _q(LIKERT, "我能够较好地兼顾工作与家庭生活。"),
                _q(
                    MULTI,
                    "目前生活中让您感到困扰的方面有哪些？（可多选）",
                    [
                        "住房",
                        "子女教育",
                        "老人或病人照护",
                        "身体健康",
                        "经济压力",
                        "上下班通勤",
                        "暂无明显困扰",
                    ],
                    required=False,
                ),
            ],
        },
        {
            "name": "意见建议",
            "questions": [
                _q(TEXT, "您当前最关心的问题是什么？", required=False),
                _q(TEXT, "对单位/支部工作有什么意见建议？", required=False),
            ],
        },
    ],
    "questions": [],
}

SATISFACTION = {
    "title": "满意度测评",
    "description": (
        "请对本单位党组织近期各方面工作的满意程度作出评价。0 分表示非常不满意，10 分表示非常满意。"
    ),
    "dimensions": [
        {
            "name": "学习教育",
            "questions": [
                _q(RATING, "您对本单位理论学习和党性教育工作的总体满意度"),
                _q(LIKERT, "学习内容贴近工作实际，对我有帮助。"),
                _q(LIKERT, "学习安排合理，没有增加不必要的负担。"),
            ],
        },
        {
            "name": "关心关爱",
            "questions": [
                _q(RATING, "您对本单位关心关爱干部职工工作的总体满意度"),
                _q(LIKERT, "遇到困难时，我知道可以向谁反映，并能得到及时帮助。"),
                _q(LIKERT, "单位重视干部职工的身心健康。"),
            ],
        },
        {
            "name": "作风建设",
            "questions": [
                _q(RATING, "您对本单位作风建设的总体满意度"),
                _q(LIKERT, "文山会海、过度留痕等形式主义问题得到了有效整治。"),
                _q(LIKERT, "领导干部能够以身作则、带头示范。"),
            ],
        },
        {
            "name": "服务保障",
            "questions": [
                _q(RATING, "您对本单位后勤服务和工作保障的总体满意度"),
                _q(LIKERT, "办公条件能够满足工作需要。"),
                _q(LIKERT, "各项服务保障事项办理及时、便捷。"),
            ],
        },
    ],
    "questions": [_q(TEXT, "您对改进以上工作还有什么意见建议？", required=False)],
}

DEMOCRATIC = {
    "title": "民主测评",
    "description": "请对被测评党组织领导班子的工作作出评价，每项在“好、较好、一般、差”中选择一项。",
    "dimensions": [
        {
            "name": "总体评价",
            "questions": [_q(SINGLE, "班子整体评价", DEMOCRATIC_OPTIONS)],
        },
        {
            "name": "分项评价",
            "questions": [
                _q(SINGLE, "落实全面从严治党主体责任", DEMOCRATIC_OPTIONS),
                _q(SINGLE, "贯彻执行民主集中制", DEMOCRATIC_OPTIONS),
                _q(SINGLE, "抓思想政治工作和理论学习", DEMOCRATIC_OPTIONS),
                _q(SINGLE, "联系服务群众", DEMOCRATIC_OPTIONS),
                _q(SINGLE, "作风建设", DEMOCRATIC_OPTIONS),
                _q(SINGLE, "廉洁自律", DEMOCRATIC_OPTIONS),
            ],
        },
    ],
    "questions": [_q(TEXT, "对班子建设的意见建议", required=False)],
}

BLANK = {"title": "", "description": "", "dimensions": [], "questions": []}

TEMPLATES: dict[str, dict] = {
    Template.THOUGHT: THOUGHT,
    Template.SATISFACTION: SATISFACTION,
    Template.DEMOCRATIC: DEMOCRATIC,
    Template.CUSTOM: BLANK,
}


def template_for(key: str) -> dict:
    """The template's data (the blank template for ``custom``); KeyError for an unknown key."""
    return TEMPLATES[key]
