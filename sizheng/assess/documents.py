"""The Word documents of a round (公文 layout via ``core.docx``): the per-unit feedback report and
the round's bulletin (通报).

Both are built from :mod:`sizheng.assess.results` (the same figures as the pages) and hold T0 facts
only: totals, grades, ranks, indicator scores and averages, rectification duties (titles, due dates,
states). Never a self-assessment note, evidence or a survey answer.

Feedback (反馈): 主送 the unit; 一、考核结果 (total, grade and why, rank of N and the rank range);
二、指标得分情况 (level-1 subtotals against the average, then the strongest and weakest indicators
against the average as a table, then the indicators without data); 三、整改要求 (this round's
rectification items with due dates); 四、上一轮整改情况 (the previous round's items and their
state); 落款 the organising org.

Bulletin (通报): 主送 the units; 一、总体情况; 二、等次分布 (table); 三、各等次单位 (in rank
order); 四、考核方法 (one paragraph); 五、下一步工作; 落款.
"""

from __future__ import annotations

from django.utils import timezone

from sizheng.assess import results
from sizheng.assess.models import Assessment, Target
from sizheng.core.docx import OfficialDocument, chinese_date

ROUND_WORDS = ("考核", "测评", "考评", "评价", "定级", "评议")


def _round_name(assessment: Assessment) -> str:
    """The round's title as it reads before "结果" (…考核 / …测评)."""
    title = assessment.title.strip()
    return title if title.endswith(ROUND_WORDS) else f"{title}考核"


def _issue_date(assessment: Assessment):
    return (
        timezone.localtime(assessment.published_at).date()
        if assessment.published_at
        else timezone.localdate()
    )


def _period(assessment: Assessment) -> str:
    return f"{chinese_date(assessment.period_start)}至{chinese_date(assessment.period_end)}"


def _n(value, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _signed(value) -> str:
    return "—" if value is None else f"{value:+.1f}"


def feedback_docx(target: Target) -> bytes:
    """The feedback report to one unit: result, indicators against the average, rectification."""
    d = results.target_detail(target)
    a = target.assessment
    org = target.org
    doc = OfficialDocument(title=f"关于{_round_name(a)}\n结果的反馈")
    doc.paragraph(f"{org.full_name}：", indent=False)
    doc.paragraph(
        f"根据“{a.system}”，{a.owner_org.full_name}对{_period(a)}各基层党组织的工作开展了{_round_name(a)}，"
        f"共有 {d['rank_of']} 个党组织参加。现将你单位的考核结果反馈如下。"
    )

    doc.heading("考核结果")
    if target.total is None:
        doc.paragraph("你单位本轮没有计算结果，请与考核组织单位联系。")
    else:
        text = f"你单位本轮考核总分 {_n(target.total)} 分"
        if target.bonus:
            text += f"（其中指标得分 {_n(target.base_total)} 分，加分 {_n(target.bonus)} 分）"
        text += f"，等次为“{target.grade}”"
        if target.rank is not None:
            text += f"，在 {d['rank_of']} 个参加考核的党组织中排名第 {target.rank} 位"
        doc.paragraph(text + "。")
        if d["capped"]:
            doc.paragraph(f"等次说明：{d['grade_reason']}。")
        if target.rank_min is not None and target.rank_max is not None:
            text = f"在各指标权重小幅随机变动的情况下，你单位的名次在第 {target.rank_min} 位至第 {target.rank_max} 位之间"
            if target.grade_change_probability is not None:
                text += f"，等次发生变化的可能性约为 {target.grade_change_probability * 100:.0f}%"
            doc.paragraph(text + "。")

    doc.heading("指标得分情况")
    if d["groups"]:
        doc.paragraph(
            "各一级指标得分（末级指标按满分 100 折算后乘以权重累加）与全部参加考核单位的平均得分对比如下。"
        )
        doc.table(
            ["一级指标", "权重", "本单位得分", "平均得分"],
            [
                [f"{g['indicator'].code} {g['indicator'].name}", _n(g["weight"] * 100, 1) + "%",
                 _n(g["subtotal"]), _n(g["average"]) if g["has_average"] else "—"]
                for g in d["groups"]
            ],
            col_widths_mm=[70, 26, 30, 30],
        )  # fmt: skip
    # Against the round's average: a unit above average everywhere has no "较弱" indicators, only
    # relatively weaker ones (and the reverse for a unit below average everywhere).
    compared = [("较好" if r["diff"] > 0 else "相对较好", r) for r in d["strongest"]] + [
        ("较弱" if r["diff"] < 0 else "相对较弱", r) for r in d["weakest"]
    ]
    if compared:
        doc.paragraph("与平均得分相比，你单位表现较好和较弱的指标如下（得分按满分 100 折算）。")
        doc.table(
            ["类别", "指标", "本单位得分", "平均得分", "差值"],
            [
                [kind, f"{r['indicator'].code} {r['indicator'].name}", _n(r["score"], 1), _n(r["average"], 1),
                 _signed(r["diff"])]
                for kind, r in compared
            ],
            col_widths_mm=[22, 58, 26, 26, 24],
        )  # fmt: skip
    if d["missing"]:
        doc.paragraph(
            "下列指标本轮无数据："
            + "；".join(
                f"{m['indicator'].code} {m['indicator'].name}（{m['missing_text']}）" for m in d["missing"]
            )
            + "。"
        )

    doc.heading("整改要求")
    if d["duties"]:
        doc.paragraph(
            f"你单位有 {len(d['duties'])} 项指标得分低于 {d['rectify_below']:g} 分，已通过责任清单下发整改事项，"
            "请认真查找原因、制定措施，在完成时限前整改到位并在平台报送整改情况。"
        )
        doc.table(
            ["序号", "整改事项", "指标得分", "完成时限"],
            [[i, r["duty"].title, _n(r["score"], 1), r["duty"].due_on] for i, r in enumerate(d["duties"], 1)],
            col_widths_mm=[14, 78, 24, 40],
        )
    elif d["below"]:
        doc.paragraph(
            f"你单位得分低于 {d['rectify_below']:g} 分的指标有："
            + "、".join(
                f"{r['indicator'].code} {r['indicator'].name}（{r['score']:.1f} 分）" for r in d["below"]
            )
            + "。请对照评分要点查找原因、制定措施，切实整改；整改事项将通过责任清单下发。"
        )
    else:
        doc.paragraph(
            f"你单位本轮没有得分低于 {d['rectify_below']:g} 分的指标，未下发整改事项。请继续保持，巩固提高。"
        )

    doc.heading("上一轮整改情况")
    if d["previous"]:
        prev = d["previous"][0]["assessment"]
        closed = sum(1 for p in d["previous"] if p["closed"])
        doc.paragraph(
            f"“{prev.title}”向你单位下发整改事项 {len(d['previous'])} 项，已销号 {closed} 项。"
            + ("" if closed == len(d["previous"]) else "未销号的事项请抓紧落实。")
        )
        doc.table(
            ["序号", "整改事项", "状态", "销号日期"],
            [[i, p["duty"].title, p["state_label"], p["closed_on"]] for i, p in enumerate(d["previous"], 1)],
            col_widths_mm=[14, 76, 26, 40],
        )
    else:
        doc.paragraph("上一轮同类考核没有向你单位下发整改事项。")

    doc.signature(a.owner_org.full_name, _issue_date(a))
    return doc.to_bytes()


def bulletin_docx(assessment: Assessment) -> bytes:
    """The round's 通报: overview, grade distribution, units per grade, methods, next steps."""
    s = results.summary(assessment)
    a = assessment
    doc = OfficialDocument(title=f"关于{_round_name(a)}\n结果的通报")
    doc.paragraph("各基层党组织：", indent=False)
    doc.paragraph(
        f"为深入了解和推动各基层党组织思想政治工作，{a.owner_org.full_name}对{_period(a)}各基层党组织的工作"
        f"开展了{_round_name(a)}。经单位自评、考核组评分、平台数据核定和综合计算，现将结果通报如下。"
    )

    doc.heading("总体情况")
    if s["scored"]:
        doc.paragraph(
            f"本次共有 {s['count']} 个党组织参加考核，平均得分 {_n(s['mean'])} 分，中位数 {_n(s['median'])} 分，"
            f"最高 {_n(s['max'])} 分，最低 {_n(s['min'])} 分。"
        )
    else:
        doc.paragraph(f"本次共有 {s['count']} 个党组织参加考核，尚无计算结果。")

    doc.heading("等次分布")
    doc.table(
        ["等次", "分数段", "单位数", "占比"],
        [[r["grade"], r["range"], r["count"], f"{r['percent']:.1f}%"] for r in s["distribution"]],
        col_widths_mm=[30, 66, 30, 30],
    )

    doc.heading("各等次单位")
    doc.paragraph("各等次单位按名次排列如下。")
    for row in s["distribution"]:
        names = [t.org.name for t in s["targets"] if t.grade == row["grade"]]
        doc.heading(f"{row['grade']}（{len(names)}个）", level=2)
        doc.paragraph("、".join(names) + "。" if names else "无。")

    doc.heading("考核方法")
    doc.paragraph(results.methods_sentence(a))

    doc.heading("下一步工作")
    doc.paragraph(
        "各基层党组织要对照本单位的结果反馈，认真分析得分较弱的指标，查找工作差距。对得分低于 "
        f"{a.rectify_below:g} 分的指标，已通过责任清单向有关单位下发整改事项，请在完成时限前整改到位并报送整改情况，"
        "整改情况纳入下一轮考核反馈。评为“好”等次的单位要总结经验、发挥示范作用；等次较低的单位要制定改进措施，"
        "切实提升思想政治工作质量。"
    )
    doc.signature(a.owner_org.full_name, _issue_date(a))
    return doc.to_bytes()
