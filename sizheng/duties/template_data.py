"""The default 机关思想政治工作责任清单 template and its due-date rules (pure: no Django imports).

Each item names its category, the duty, the requirement, the evidence the inspector expects and a
due-date rule. A recurring rule ("每季度末", "每半年末") stands for one deliverable per period, so an
item expands into one duty per occurrence, each inspected and closed (销号) on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

TEMPLATE_KEY = "jiguan-sizheng"
TEMPLATE_NAME = "机关思想政治工作责任清单（默认模板）"

QUARTERS = (("第一季度", 3, 31), ("第二季度", 6, 30), ("第三季度", 9, 30), ("第四季度", 12, 31))
HALVES = (("上半年", 6, 30), ("下半年", 12, 31))
_FIXED = re.compile(r"^(\d{1,2})月(\d{1,2})日前$")


@dataclass(frozen=True)
class TemplateItem:
    """One item of a responsibility-list template."""

    category: str
    title: str
    requirement: str
    evidence: str
    rule: str
    priority: str = "normal"


def occurrences(rule: str, year: int) -> list[tuple[str, date]]:
    """The (period label, due date) pairs a rule gives in a year; ValueError for an unknown rule."""
    if rule == "每季度末":
        return [(label, date(year, m, d)) for label, m, d in QUARTERS]
    if rule == "每半年末":
        return [(label, date(year, m, d)) for label, m, d in HALVES]
    match = _FIXED.match(rule)
    if match:
        return [("", date(year, int(match.group(1)), int(match.group(2))))]
    raise ValueError(f"无法识别的完成时限规则：{rule}")


def occurrence_title(title: str, label: str) -> str:
    """A recurring item's duty title carries its period: “开展思想动态分析研判（第一季度）”."""
    return f"{title}（{label}）" if label else title


def list_title(org_name: str, year: int) -> str:
    """The default name of an org's list for a year."""
    return f"{org_name}{year}年度思想政治工作责任清单"


TEMPLATE_ITEMS: tuple[TemplateItem, ...] = (
    TemplateItem(
        "责任落实",
        "研究制定年度思想政治工作责任清单",
        "党组织书记履行第一责任人职责，召开专题会议研究本年度思想政治工作，把任务分解到班子成员、"
        "处室和支部，明确责任人、完成时限和工作标准。",
        "专题会议记录、印发的责任清单文件",
        "3月31日前",
        "high",
    ),
    TemplateItem(
        "责任落实",
        "召开思想政治工作联席会议",
        "由党组织牵头，组织人事、纪检、工会、共青团、妇委会等方面参加，通报干部职工思想状况，"
        "研究解决思想政治工作中的突出问题，明确下一阶段重点任务。",
        "会议通知、签到表、会议纪要",
        "每半年末",
    ),
    TemplateItem(
        "责任落实",
        "报送年度思想政治工作总结",
        "对照责任清单逐项总结全年工作，分析存在的不足，提出下一年度工作思路，经党组织会议审议后报上级党组织。",
        "经党组织会议审议的年度工作总结",
        "12月20日前",
        "high",
    ),
    TemplateItem(
        "分析研判",
        "开展干部职工思想动态分析研判",
        "通过谈心谈话、问卷调查、座谈走访等方式，全面掌握干部职工思想动态，按照总体情况、主要表现、"
        "原因分析、对策建议形成分析研判报告，对苗头性、倾向性问题提出针对性措施。",
        "思想动态分析研判报告",
        "每季度末",
    ),
    TemplateItem(
        "分析研判",
        "开展意识形态领域情况分析",
        "落实意识形态工作责任制，分析研判本单位意识形态领域情况和网络舆情，排查风险隐患，提出防范化解措施。",
        "意识形态领域情况分析报告",
        "每半年末",
    ),
    TemplateItem(
        "调查研究",
        "开展思想政治工作专题调研",
        "围绕干部职工普遍关心的工作、学习、生活问题确定调研课题，深入处室和基层开展调研，"
        "形成有情况、有分析、有建议的调研报告，推动调研成果转化运用。",
        "调研方案、调研报告及成果转化情况",
        "9月30日前",
    ),
    TemplateItem(
        "情况通报",
        "通报思想政治工作开展情况",
        "定期向党员干部通报思想政治工作责任清单落实情况和干部职工反映问题的办理结果，做到事事有回音、件件有着落。",
        "情况通报文稿及通报范围说明",
        "每半年末",
    ),
    TemplateItem(
        "经费保障",
        "落实思想政治工作经费",
        "将思想政治工作、党员教育培训和困难帮扶所需经费纳入年度预算，明确使用范围，专款专用，规范管理。",
        "年度预算安排说明、经费使用台账",
        "3月31日前",
    ),
    TemplateItem(
        "督查考核",
        "开展思想政治工作责任制落实情况督查",
        "对照责任清单对所属党组织和处室开展督查，对发现的问题建立整改台账，明确整改措施和时限，逐项跟踪销号。",
        "督查方案、督查情况报告、问题整改台账",
        "11月30日前",
    ),
    TemplateItem(
        "督查考核",
        "开展思想政治工作年度考核自评",
        "对照考核指标体系逐项自评打分，如实填写自评说明并附佐证材料，经党组织会议审定后报送。",
        "考核自评表及佐证材料目录",
        "12月20日前",
    ),
    TemplateItem(
        "理论学习",
        "制定党组（党委）理论学习中心组年度学习计划",
        "结合上级要求和本单位实际确定年度学习专题，明确学习时间、主讲人和学习形式，报上级党组织备案。",
        "印发的中心组年度学习计划",
        "1月31日前",
        "high",
    ),
    TemplateItem(
        "理论学习",
        "组织理论学习中心组集中学习",
        "每季度至少组织一次中心组集中学习，成员围绕专题作交流发言，做好学习记录，学习结束后按规定报送学习情况。",
        "学习通知、签到表、学习记录和交流发言材料",
        "每季度末",
    ),
    TemplateItem(
        "理论学习",
        "组织青年理论学习小组学习",
        "组织35岁以下青年干部开展理论学习和专题研讨，采取读书分享、微党课、实地研学等形式，增强学习实效。",
        "学习活动记录、青年干部心得体会",
        "每季度末",
    ),
    TemplateItem(
        "三会一课",
        "落实“三会一课”和主题党日制度",
        "按期召开党员大会、支部委员会、党小组会，按时上好党课，每月相对固定一天开展主题党日，做到内容充实、记录完整。",
        "会议记录、党课讲稿、主题党日活动记录",
        "每季度末",
    ),
    TemplateItem(
        "三会一课",
        "党组织书记讲专题党课",
        "党组织书记结合理论学习和本单位思想实际，每年至少为党员干部讲一次专题党课。",
        "党课讲稿、活动照片或记录（照片可选）",
        "6月30日前",
    ),
    TemplateItem(
        "三会一课",
        "召开组织生活会并开展民主评议党员",
        "会前认真学习、广泛征求意见、开展谈心谈话，会上开展批评和自我批评，会后制定整改清单；同步开展民主评议党员。",
        "会议方案、征求意见汇总、会议记录、整改清单、民主评议结果",
        "12月20日前",
        "high",
    ),
    TemplateItem(
        "谈心谈话",
        "开展谈心谈话全覆盖",
        "班子成员之间、班子成员与分管处室负责人、支委与党员、党员与党员之间每年至少谈心谈话一次；"
        "干部岗位变动、受到处理、家庭发生重大变故或出现苗头性问题时及时谈。",
        "谈心谈话台账（只记时间、对象和方式，不记谈话内容）",
        "11月30日前",
    ),
    TemplateItem(
        "人文关怀",
        "走访慰问困难干部职工和老党员",
        "建立困难干部职工和老党员、生活困难党员信息台账，在重要节日和关键时间节点开展走访慰问，帮助解决实际困难。",
        "走访慰问台账、帮扶措施落实情况",
        "每半年末",
    ),
    TemplateItem(
        "人文关怀",
        "开展心理健康教育和心理疏导",
        "组织心理健康讲座或团体辅导，畅通心理咨询渠道，对有需要的干部职工在本人同意的前提下及时提供疏导和转介。",
        "活动通知、活动记录（不含个人信息）",
        "10月31日前",
    ),
    TemplateItem(
        "队伍建设",
        "开展党务干部和思想政治工作骨干培训",
        "组织党务干部、支部书记和思想政治工作骨干参加业务培训，提升做思想政治工作的本领。",
        "培训通知、参训名单、培训课件或小结",
        "10月31日前",
    ),
    TemplateItem(
        "阵地建设",
        "加强思想政治工作阵地建设",
        "用好党员活动室、职工书屋、宣传栏和内网专栏等阵地，及时更新内容，确保阵地有人管、常使用、有实效。",
        "阵地使用记录、内容更新情况说明",
        "6月30日前",
    ),
    TemplateItem(
        "文明创建",
        "开展文明单位创建和志愿服务活动",
        "深化文明单位创建，组织党员干部参加志愿服务、社区报到等活动，选树宣传身边先进典型，营造崇德向善的良好风气。",
        "活动方案、活动记录、先进典型宣传材料",
        "11月30日前",
    ),
)


def template_duties(year: int) -> list[dict]:
    """Every duty the default template gives for a year: title, category, requirement, evidence, due date."""
    out = []
    for item in TEMPLATE_ITEMS:
        for label, due_on in occurrences(item.rule, year):
            out.append(
                {
                    "title": occurrence_title(item.title, label),
                    "category": item.category,
                    "description": item.requirement,
                    "evidence_required": item.evidence,
                    "priority": item.priority,
                    "due_on": due_on,
                }
            )
    return out
