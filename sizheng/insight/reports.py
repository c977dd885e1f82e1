"""分析研判报告 (rules.md §5): drafted from the data, edited, finalised, sent upward with a receipt;
对策建议 become duties, and staff see "你们提出的 → 我们做了" when those duties close.

* **Drafting** (:func:`report_draft`) gathers the facts of the org's reporting group in the chosen
  closed waves (:func:`report_facts`): participation and dimension indices from
  ``insight.results`` (suppression applied there), themes, negative shares, keywords and emerging
  themes from ``insight.analysis`` (suppressed aggregates only), talk topic-tag counts over org
  subtrees of at least k people talked to. It writes the four sections 总体情况 / 主要表现 /
  原因分析 / 对策建议 as editable text; a group below the threshold gets a sentence saying so,
  never a number.
* **Workflow**: ``draft → final → submitted → received`` (and ``final → draft`` to reopen), one
  transition function over :data:`TRANSITIONS`, compare-and-swap on ``version``. A report is
  submitted to the parent org (branch → general branch → committee); the parent's secretaries and
  党务干部 (and the committee admins for the root) are notified; one of them signs for receipt.
* **Recommendations** (:func:`recommendation_add`) open a duty for the report's org, titled with
  the measure (T0: a measure, not personal data); when it closes, :func:`_recommendation_done`
  copies the closing date and the duty's evidence as the outcome.

Access (ARCHITECTURE §4): a report is visible to those who manage its org, to those who manage the
org it was submitted to, and — once final — to leaders of a unit the org holds (read-only);
everyone else gets 404. Changing it needs ``manages_org`` of its org (403 otherwise); receiving it
needs ``manages_org`` of the org it was submitted to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role
from sizheng.core.notify import notify
from sizheng.core.rules import Period
from sizheng.duties.models import SourceKind
from sizheng.duties.services import duty_open, on_close
from sizheng.insight.models import (
    InsightReport,
    Recommendation,
    ReportKind,
    ReportState,
    Wave,
    WaveState,
)
from sizheng.org.access import ancestor_ids, manages_org, scope_of
from sizheng.org.models import Org

TITLE_MAX = 120
SECTION_MAX = 20000
SECTIONS = (
    ("overall", "总体情况"),
    ("performance", "主要表现"),
    ("causes", "原因分析"),
    ("measures", "对策建议"),
)
TOP_THEMES = 5


# --------------------------------------------------------------------------------------------
# Access


def visible_report_q(user) -> Q:
    """Reports the user may read."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return Q()
    q = Q(pk__in=[])
    for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
        q |= Q(org__path__startswith=p)
        q |= Q(submitted_to__path__startswith=p, state__in=[ReportState.SUBMITTED, ReportState.RECEIVED])
    units = scope.unit_ids.get(Role.LEADER, [])
    if scope.has_everything(Role.LEADER):
        q |= ~Q(state=ReportState.DRAFT)
    elif units:
        q |= Q(org__units__in=units) & ~Q(state=ReportState.DRAFT)
    return q


def visible_reports(user):
    return InsightReport.objects.filter(visible_report_q(user)).distinct()


def may_edit(user, report: InsightReport) -> bool:
    """May change the report (edit, finalise, submit, add recommendations)."""
    return manages_org(user, report.org)


def may_receive(user, report: InsightReport) -> bool:
    """May sign for the report on behalf of the org it was submitted to."""
    return report.submitted_to_id is not None and manages_org(user, report.submitted_to)


def may_write_reports(user) -> bool:
    """May draft reports for some org."""
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def report_orgs(user):
    """Orgs the user may draft reports for (those they manage; not 党组)."""
    scope = scope_of(user)
    qs = Org.objects.exclude(kind=Org.Kind.LEADING_GROUP).filter(dissolved_on__isnull=True)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return qs.order_by("path")
    q = Q(pk__in=[])
    for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
        q |= Q(path__startswith=p)
    return qs.filter(q).order_by("path")


def get_report_or_404(user, pk) -> InsightReport:
    """A report the user may read, else 404 (existence never leaks)."""
    report = (
        visible_reports(user)
        .select_related("org", "submitted_to", "received_by", "created_by")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404("未找到该分析研判报告，或您无权查看。")
    return report


# --------------------------------------------------------------------------------------------
# Facts: everything a draft and its charts say, from suppressed aggregates only


def parse_period(value) -> Period:
    """A ``core.rules`` period from a key ("2026-H1", "2026-Q3", "2026-07", "2026")."""
    if isinstance(value, Period):
        return value
    try:
        return Period.parse(str(value or "").strip())
    except ValueError:
        raise ValidationError({"period": "请选择分析期间，例如“2026年上半年”或“2026年第三季度”。"}) from None


def candidate_waves(org: Org, period: Period):
    """Closed waves ending in the period of surveys owned by the org, its ancestors or its subtree."""
    return (
        Wave.objects.filter(
            Q(survey__owner_org_id__in=ancestor_ids(org.path))
            | Q(survey__owner_org__path__startswith=org.path),
            state=WaveState.CLOSED,
            closes_on__gte=period.start,
            closes_on__lte=period.end,
        )
        .select_related("survey", "survey__owner_org")
        .order_by("closes_on", "pk")
    )


@dataclass(frozen=True)
class DimensionFact:
    name: str
    index: float | None
    before: float | None

    @property
    def change(self) -> float | None:
        if self.index is None or self.before is None:
            return None
        return round(self.index - self.before, 1)


@dataclass(frozen=True)
class ThemeFact:
    theme: str
    share: float  # percent
    before: float | None  # percent in the previous wave
    significant: bool
    negative_share: float | None  # percent of the theme's documents, when ≥ k touch it

    @property
    def change(self) -> float | None:
        return None if self.before is None else round(self.share - self.before, 1)


@dataclass
class WaveFacts:
    """The report org's group in one wave (all None when the group is suppressed)."""

    wave: Wave
    survey_title: str
    group_id: str
    group_name: str
    n: int | None = None
    audience: int | None = None
    previous_label: str = ""
    dimensions: list[DimensionFact] = field(default_factory=list)
    texts: int | None = None
    negative_share: float | None = None
    themes: list[ThemeFact] = field(default_factory=list)
    rising: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.n is not None

    @property
    def rate(self) -> float | None:
        if self.n is None or not self.audience:
            return None
        return round(min(100.0, 100.0 * self.n / self.audience), 1)

    @property
    def label(self) -> str:
        return f"{self.survey_title}（{self.wave.label}）"


@dataclass
class ReportFacts:
    """What the draft and the charts say about one org over one period."""

    org: Org
    period: Period
    k: int
    waves: list[WaveFacts]
    talks: int | None = None  # held talks counted (only when their tag counts are published)
    tags: list[tuple[str, int]] = field(default_factory=list)
    tags_suppressed: bool = False

    @property
    def main(self) -> WaveFacts | None:
        """The most recent published wave with figures (the charts' source)."""
        published = [w for w in self.waves if w.published]
        return published[-1] if published else None


def _org_group(org: Org, survey, groups) -> str | None:
    """The org's reporting group in a survey: ``org:<id>``, or for the survey's owner the survey-wide
    group (the hierarchy's one root, or the virtual root of a forest, e.g. units → offices)."""
    from sizheng.insight.analysis import VIRTUAL_ROOT

    gid = f"org:{org.pk}"
    if any(g.id == gid for g in groups):
        return gid
    if survey.owner_org_id == org.pk:
        roots = [g.id for g in groups if g.parent_id is None]
        return roots[0] if len(roots) == 1 else VIRTUAL_ROOT
    return None


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 1)


def _wave_facts(org: Org, wave: Wave, results_by_number: dict, k: int) -> WaveFacts | None:
    from sizheng.insight.analysis import VIRTUAL_ROOT, wave_analysis

    wr = results_by_number.get(wave.number)
    if wr is None:
        return None
    gid = _org_group(org, wave.survey, wr.groups)
    if gid is None:
        return None
    facts = WaveFacts(wave=wave, survey_title=wave.survey.title, group_id=gid, group_name=org.name)
    # Respondents: the group's row, or for the survey-wide total of a forest the sum of its roots
    # when every root is published (a sum of published figures discloses nothing new).
    if gid == VIRTUAL_ROOT:
        roots = [g for g in wr.groups if g.parent_id is None]
        if roots and all(g.n is not None for g in roots):
            facts.n = sum(g.n for g in roots)
            facts.audience = sum(g.audience or 0 for g in roots)
    else:
        row = wr.group(gid)
        if row is not None and row.n is not None:
            facts.n, facts.audience = row.n, row.audience
    if facts.n is None:
        return facts
    before = [r for num, r in results_by_number.items() if num < wave.number]
    prev = max(before, key=lambda r: r.wave.number) if before else None
    prev_index = {d.name: d.index.get(gid) for d in prev.dimensions} if prev else {}
    facts.previous_label = prev.wave.label if prev else ""
    for d in wr.dimensions:
        value = d.index.get(gid)
        if value is not None:
            facts.dimensions.append(DimensionFact(d.name, value, prev_index.get(d.name)))
    analysis = wave_analysis(wave)
    group = analysis.group(gid)
    if group is None or not group.published or not group.n:
        return facts
    previous = analysis.previous(gid)
    prev_shares = None
    if previous and previous.published and previous.n:
        # The change is against the true share before, also when it was too small to be shown itself.
        prev_shares = {theme: c / previous.n for theme, c in previous.small_themes}
        prev_shares.update({t.theme: t.share for t in previous.themes})
    significant = {e.theme for e in group.emerging}
    facts.texts = group.n
    facts.negative_share = _pct(group.negative_share)
    facts.themes = [
        ThemeFact(
            t.theme,
            _pct(t.share),
            _pct(prev_shares.get(t.theme, 0.0)) if prev_shares is not None else None,
            t.theme in significant,
            _pct(t.negative_share),
        )
        for t in group.themes
    ]
    facts.rising = [e.theme for e in group.emerging if e.direction == "up"]
    facts.keywords = [w for w, _n in group.keywords]
    return facts


def report_facts(org: Org, period: Period, waves, *, actor=None, with_tags: bool = True) -> ReportFacts:
    """The facts of the org's reporting group in the waves, and talk tag counts over the period."""
    from sizheng.insight.analysis import k_min, talk_tags
    from sizheng.insight.results import survey_results

    k = k_min()
    waves = sorted(waves, key=lambda w: (w.closes_on, w.pk))
    by_survey: dict[int, dict] = {}
    out: list[WaveFacts] = []
    for wave in waves:
        if wave.survey_id not in by_survey:
            by_survey[wave.survey_id] = survey_results(wave.survey)
        facts = _wave_facts(org, wave, by_survey[wave.survey_id], k)
        if facts is not None:
            out.append(facts)
    result = ReportFacts(org=org, period=period, k=k, waves=out)
    if not with_tags:
        return result
    tags = talk_tags(org, period, actor=actor)
    root = next((g for g in tags.groups if g.org_id == org.pk), None)
    if root is not None and root.published:
        result.talks = root.talks
        result.tags = list(root.tags)
    elif root is not None:
        result.tags_suppressed = True
    return result


# --------------------------------------------------------------------------------------------
# The draft text

# A first measure per theme for 对策建议; the analyst edits it (rules.md §5: 对策建议 must be specific).
SUGGESTIONS = {
    "工作压力": "统筹精简会议、文件和督查检查，合理调配人手，落实带薪休假和加班调休制度，对任务重的岗位开展专门谈心谈话。",
    "职业发展": "完善干部培养和交流轮岗计划，公开职级晋升的条件和程序，为年轻干部提供岗位锻炼和业务培训机会。",
    "薪酬待遇": "向干部职工讲清工资、津补贴和绩效政策，按规定落实各项待遇，及时回应具体诉求。",
    "住房": "梳理干部职工住房困难情况，协调落实周转房、公积金等政策，帮助解决通勤距离远等实际问题。",
    "子女教育": "摸清干部职工子女入学、托育等需求，协调有关部门提供政策咨询和帮助，探索开展假期托管服务。",
    "医疗健康": "组织健康体检和心理健康讲座，畅通心理咨询渠道，关心患病干部职工及其家属。",
    "家庭照护": "对家中有老人、病人需要照护的干部职工建立关爱台账，在工作安排上给予适当照顾。",
    "人际关系": "开展谈心谈话和团队活动，加强沟通协作，及时化解工作中的矛盾。",
    "作风建设": "持续纠治“四风”，领导干部带头转变作风，对群众反映的问题逐项整改并公开结果。",
    "形式主义负担": "对照为基层减负的要求，清理不必要的报表、台账和痕迹管理，压减会议文件数量。",
    "学习教育": "改进学习方式，精选贴近工作实际的学习内容，避免重复学习和层层加码。",
    "思想认识": "加强理论学习和形势政策教育，针对思想困惑开展专题辅导和谈心谈话。",
}
DEFAULT_SUGGESTION = "结合本单位实际研究制定具体措施，明确责任人和完成时限。"
# The system finds patterns, not causes: the draft leaves this for the analyst, and a report still
# holding a 【…】 placeholder cannot be finalised (no paper exercise of an unread draft).
CAUSES_PROMPT = "【请结合谈心谈话、走访调研和日常观察，分析产生上述问题的主要原因，并删除本提示。】"
PLACEHOLDER = "【"


def _signed(value: float, unit: str) -> str:
    if value > 0:
        return f"上升 {value:g} {unit}"
    if value < 0:
        return f"下降 {-value:g} {unit}"
    return "持平"


def _overall(facts: ReportFacts) -> str:
    org, period, k = facts.org, facts.period, facts.k
    lines = []
    if facts.waves:
        names = "、".join(w.label for w in facts.waves)
        lines.append(f"本报告依据{period.label}{org.name}的问卷调查（{names}）和同期谈心谈话情况形成。")
    else:
        lines.append(f"{period.label}{org.name}没有已结束的问卷调查，本报告依据同期谈心谈话等情况形成。")
    for w in facts.waves:
        if not w.published:
            lines.append(f"{w.label}中，本组织参与人数不足 {k} 人，按匿名规则不单独呈现结果。")
            continue
        sentence = f"{w.label}本期共有 {w.n} 人参与"
        if w.rate is not None:
            sentence += f"，参与率 {w.rate:g}%"
        lines.append(sentence + "。")
        if w.dimensions:
            parts = "、".join(f"{d.name} {d.index:g}" for d in w.dimensions)
            best = max(w.dimensions, key=lambda d: d.index)
            worst = min(w.dimensions, key=lambda d: d.index)
            line = f"各维度指数（满分 100）为：{parts}。"
            if best.name != worst.name:
                line += f"总体来看，“{best.name}”相对较好，“{worst.name}”相对薄弱。"
            lines.append(line)
        if w.texts:
            line = f"共有 {w.texts} 人填写了文字意见"
            if w.negative_share is not None:
                line += f"，其中情绪倾向为负面的占 {w.negative_share:g}%"
            lines.append(line + "。")
    if facts.talks:
        lines.append(f"同期共开展谈心谈话 {facts.talks} 次（不含涉及心理健康的谈话）。")
    return "\n".join(lines)


def _performance(facts: ReportFacts) -> str:
    lines = []
    main = facts.main
    if main is None:
        lines.append("本期没有可以呈现的调查结果（参与人数不足匿名阈值或尚无已结束的调查）。")
    else:
        if main.dimensions:
            lines.append("（一）各维度情况。")
            for d in main.dimensions:
                line = f"“{d.name}”指数 {d.index:g}"
                if d.change is not None:
                    line += f"，较上期{_signed(d.change, '分')}"
                lines.append(line + "。")
        if main.themes:
            lines.append("（二）干部职工关注的主要问题。")
            for t in main.themes[:TOP_THEMES]:
                line = f"“{t.theme}”相关意见占 {t.share:g}%"
                if t.change is not None:
                    line += f"，较上期{_signed(t.change, '个百分点')}"
                    line += "（显著）" if t.significant else ("（变化不显著）" if t.change else "")
                lines.append(line + "。")
        if main.rising:
            lines.append(f"与上期相比明显增多的关注点：{'、'.join(f'“{t}”' for t in main.rising)}。")
        if main.keywords:
            lines.append(f"意见中出现较多的词语有：{'、'.join(main.keywords[:8])}。")
    if facts.tags:
        top = "、".join(f"{tag}（{n} 次）" for tag, n in facts.tags[:6])
        lines.append(f"谈心谈话中涉及较多的话题为：{top}。")
    elif facts.tags_suppressed:
        lines.append(f"谈心谈话涉及人数不足 {facts.k} 人，话题分布按规定不予统计。")
    return "\n".join(lines)


def _concerns(main: WaveFacts | None) -> list[ThemeFact]:
    """The themes the causes and measures start from: rising significantly, then most negative,
    then most mentioned (at most three)."""
    if main is None:
        return []
    chosen: list[ThemeFact] = []
    rising = [t for t in main.themes if t.theme in main.rising]
    negative = sorted((t for t in main.themes if t.negative_share), key=lambda t: -(t.negative_share or 0))
    for t in [*rising, *negative, *main.themes]:
        if t not in chosen:
            chosen.append(t)
        if len(chosen) == 3:
            break
    return chosen


def _causes(facts: ReportFacts) -> str:
    main = facts.main
    lines = [
        f"在涉及“{t.theme}”的意见中，负面情绪占 {t.negative_share:g}%。"
        for t in _concerns(main)
        if t.negative_share is not None
    ]
    if main and main.dimensions:
        worst = min(main.dimensions, key=lambda d: d.index)
        line = f"“{worst.name}”维度指数相对较低（{worst.index:g}）"
        if worst.change is not None and worst.change < 0:
            line += f"，且较上期下降 {-worst.change:g} 分"
        lines.append(line + "。")
    lines.append(CAUSES_PROMPT)
    return "\n".join(lines)


def _measures(facts: ReportFacts) -> str:
    lines = []
    for i, t in enumerate(_concerns(facts.main), start=1):
        lines.append(f"{i}．针对“{t.theme}”方面的问题：{SUGGESTIONS.get(t.theme, DEFAULT_SUGGESTION)}")
    if not lines:
        lines.append(f"1．{DEFAULT_SUGGESTION}")
    lines.append("各项措施要明确责任人和完成时限，办结后及时向干部职工反馈落实情况。")
    return "\n".join(lines)


def report_title(org: Org, kind: str, period: Period, today: date | None = None) -> str:
    if kind == ReportKind.THEMATIC:
        return f"{org.name}{period.label}思想动态专题分析报告"[:TITLE_MAX]
    if kind == ReportKind.IMMEDIATE:
        today = today or timezone.localdate()
        return f"{org.name}思想动态即时报告（{today.year}年{today.month}月{today.day}日）"[:TITLE_MAX]
    return f"{org.name}{period.label}思想动态分析研判报告"[:TITLE_MAX]


def draft_sections(facts: ReportFacts) -> dict[str, str]:
    """The four sections written from the facts."""
    return {
        "overall": _overall(facts),
        "performance": _performance(facts),
        "causes": _causes(facts),
        "measures": _measures(facts),
    }


# --------------------------------------------------------------------------------------------
# Services


@transaction.atomic
def report_draft(*, actor, org: Org, kind: str, period, waves=()) -> InsightReport:
    """Draft a report for the org from the data of the chosen closed waves (default: all candidates)."""
    if not manages_org(actor, org):
        raise PermissionDenied("只有本组织的书记、党务干部或机关工委管理员可以起草分析研判报告。")
    if kind not in ReportKind.values:
        raise ValidationError({"kind": "请选择报告类型。"})
    period = parse_period(period)
    candidates = {w.pk: w for w in candidate_waves(org, period)}
    chosen = list(waves) or list(candidates.values())
    foreign = [w for w in chosen if w.pk not in candidates]
    if foreign:
        raise ValidationError({"waves": "所选调查轮次须是本期已结束、且由本组织或上级组织开展的调查。"})
    chosen = [candidates[w.pk] for w in chosen]
    facts = report_facts(org, period, chosen, actor=actor)
    report = InsightReport.objects.create(
        org=org,
        kind=kind,
        period=period.key,
        title=report_title(org, kind, period),
        created_by=actor if getattr(actor, "pk", None) else None,
        **draft_sections(facts),
    )
    report.waves.set(chosen)
    audit.record(actor, "insight_report_draft", report, {"org": org.pk, "kind": kind, "period": period.key,
                                                          "waves": [w.pk for w in chosen]})  # fmt: skip
    return report


def _require_editor(actor, report: InsightReport) -> None:
    if not may_edit(actor, report):
        raise PermissionDenied("您可以查看该报告，但没有修改它的权限。")


@transaction.atomic
def report_update(
    *,
    actor,
    report: InsightReport,
    version: int,
    title: str,
    overall: str,
    performance: str,
    causes: str,
    measures: str,
) -> InsightReport:
    """Save the edited title and sections of a draft (compare-and-swap on ``version``)."""
    _require_editor(actor, report)
    if report.state != ReportState.DRAFT:
        raise Conflict("报告已定稿，不能再修改；如需修改，请先退回起草。")
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "请填写报告标题。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"报告标题不能超过 {TITLE_MAX} 个字。"
    values = {"overall": overall, "performance": performance, "causes": causes, "measures": measures}
    for name, label in SECTIONS:
        values[name] = (values[name] or "").strip()
        if len(values[name]) > SECTION_MAX:
            errors[name] = f"“{label}”不能超过 {SECTION_MAX} 个字。"
    if errors:
        raise ValidationError(errors)
    changed = [f for f in ("title", *values) if getattr(report, f) != (title if f == "title" else values[f])]
    updated = InsightReport.objects.filter(pk=report.pk, version=version, state=ReportState.DRAFT).update(
        title=title, version=F("version") + 1, **values
    )
    if not updated:
        raise Conflict("该报告已被他人修改，请刷新页面后重新填写。")
    report.refresh_from_db()
    audit.record(actor, "insight_report_update", report, {"fields": changed, "version": report.version})
    return report


# action → (states it may start from, state it leads to, who may take it: "editor" / "receiver")
TRANSITIONS = {
    "finalize": (frozenset({ReportState.DRAFT}), ReportState.FINAL, "editor"),
    "reopen": (frozenset({ReportState.FINAL}), ReportState.DRAFT, "editor"),
    "submit": (frozenset({ReportState.FINAL}), ReportState.SUBMITTED, "editor"),
    "receive": (frozenset({ReportState.SUBMITTED}), ReportState.RECEIVED, "receiver"),
}
ACTION_LABELS = {"finalize": "定稿", "reopen": "退回起草", "submit": "报送上级", "receive": "签收"}


def available_actions(user, report: InsightReport) -> list[str]:
    """The workflow actions the page offers this user now."""
    out = []
    for action, (sources, _to, side) in TRANSITIONS.items():
        if report.state not in sources:
            continue
        if (side == "editor" and may_edit(user, report)) or (
            side == "receiver" and may_receive(user, report)
        ):
            if action == "submit" and report.org.parent_id is None:
                continue
            out.append(action)
    return out


def _managers(org: Org) -> list:
    """The accounts of the org's secretaries and 党务干部 (and the committee admins for the root)."""
    from sizheng.core.models import RoleGrant, User

    q = Q(role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind=RoleGrant.ScopeKind.ORG, scope_id=org.pk)
    if org.parent_id is None:
        q |= Q(role=Role.COMMITTEE_ADMIN)
    ids = RoleGrant.objects.in_force(timezone.localdate()).filter(q).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=set(ids), is_active=True))


@transaction.atomic
def report_transition(
    *, actor, report: InsightReport, action: str, version: int | None = None
) -> InsightReport:
    """Take one workflow step: side (403), state and version (409), then a compare-and-swap write."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise ValidationError({"action": f"未知的操作：{action}。"})
    sources, to_state, side = step
    if side == "editor":
        _require_editor(actor, report)
    elif not may_receive(actor, report):
        raise PermissionDenied("只有报告所报送的上级党组织的书记、党务干部可以签收。")
    label = ACTION_LABELS[action]
    if report.state not in sources:
        raise Conflict(f"该报告当前状态为“{report.get_state_display()}”，不能{label}。")
    if version is not None and version != report.version:
        raise Conflict("该报告已被他人处理，请刷新页面后重试。")
    if action == "finalize":
        pending = [label for name, label in SECTIONS if PLACEHOLDER in (getattr(report, name) or "")]
        if pending:
            raise ValidationError(
                f"“{'、'.join(pending)}”中还有【】标出的待补充内容，请修改完善并删除提示后再定稿。"
            )
    now = timezone.now()
    changes: dict = {}
    if action == "submit":
        if report.org.parent_id is None:
            raise Conflict("机关工委是最高一级党组织，报告无须向上报送。")
        changes.update(submitted_to_id=report.org.parent_id, submitted_at=now)
    elif action == "receive":
        changes.update(received_at=now, received_by=actor)
    elif action == "reopen":
        changes.update(submitted_to=None, submitted_at=None)
    updated = InsightReport.objects.filter(pk=report.pk, version=report.version, state=report.state).update(
        state=to_state, version=F("version") + 1, **changes
    )
    if not updated:
        raise Conflict("该报告已被他人处理，请刷新页面后重试。")
    from_state = report.state
    report.refresh_from_db()
    detail = {"from": from_state, "to": to_state, "version": report.version}
    if action == "submit":
        detail["submitted_to"] = report.submitted_to_id
    audit.record(actor, f"insight_report_{action}", report, detail)
    report_id, title = report.pk, report.title
    if action == "submit":
        recipients = _managers(report.submitted_to)
        org_name = report.org.name
        transaction.on_commit(
            lambda: notify(
                recipients,
                title="收到下级党组织报送的分析研判报告",
                body=f"{org_name}报送了《{title}》，请查阅并签收。",
                url=reverse("insight:report_detail", args=[report_id]),
            )
        )
    elif action == "receive":
        recipients = _managers(report.org)
        parent_name = report.submitted_to.name
        transaction.on_commit(
            lambda: notify(
                recipients,
                title="分析研判报告已被上级签收",
                body=f"{parent_name}已签收《{title}》。",
                url=reverse("insight:report_detail", args=[report_id]),
            )
        )
    return report


def report_finalize(*, actor, report: InsightReport, version: int | None = None) -> InsightReport:
    """Finalise a draft (定稿): it can then be submitted or downloaded as the final 公文."""
    return report_transition(actor=actor, report=report, action="finalize", version=version)


def report_reopen(*, actor, report: InsightReport, version: int | None = None) -> InsightReport:
    """Take a final (not yet submitted) report back to draft."""
    return report_transition(actor=actor, report=report, action="reopen", version=version)


def report_submit(*, actor, report: InsightReport, version: int | None = None) -> InsightReport:
    """Submit a final report to the parent org (branch → general branch → committee), notifying its managers."""
    return report_transition(actor=actor, report=report, action="submit", version=version)


def report_receive(*, actor, report: InsightReport, version: int | None = None) -> InsightReport:
    """Sign for a submitted report on behalf of the parent org (receipt: who and when)."""
    return report_transition(actor=actor, report=report, action="receive", version=version)


# --------------------------------------------------------------------------------------------
# Recommendations → duties → "你们提出的 → 我们做了"


def recommendation_groups(report: InsightReport) -> list[tuple[str, str]]:
    """(group id, name) a recommendation may address: "" (the whole org) and the reporting groups of
    the report's waves inside the org's subtree (org groups), or all of a survey it owns."""
    from sizheng.insight.groups import groups as survey_groups

    out: dict[str, str] = {"": f"{report.org.name}全体"}
    org_ids = set(Org.objects.filter(path__startswith=report.org.path).values_list("pk", flat=True))
    for wave in report.waves.select_related("survey").order_by("pk"):
        for g in survey_groups(wave.survey):
            kind, _, raw = g.id.partition(":")
            if (
                kind == "org" and raw.isdigit() and int(raw) in org_ids
            ) or wave.survey.owner_org_id == report.org_id:
                out.setdefault(g.id, g.name)
    return list(out.items())


@transaction.atomic
def recommendation_add(
    *, actor, report: InsightReport, concern: str, action: str, group: str = "", due_on: date
) -> Recommendation:
    """Adopt a measure: a recommendation, and a duty for the report's org titled with the measure."""
    _require_editor(actor, report)
    if report.state == ReportState.DRAFT:
        raise Conflict("请先将报告定稿，再把对策建议落实为责任事项。")
    errors = {}
    concern, action, group = (concern or "").strip(), (action or "").strip(), (group or "").strip()
    if not concern:
        errors["concern"] = "请填写干部职工反映的问题（你们提出的）。"
    elif len(concern) > 300:
        errors["concern"] = "反映的问题不能超过 300 个字。"
    if not action:
        errors["action"] = "请填写准备采取的措施（我们的措施）。"
    elif len(action) > 200:
        errors["action"] = "措施不能超过 200 个字（它将作为责任事项的名称）。"
    if group not in dict(recommendation_groups(report)):
        errors["group"] = "请选择本组织范围内的面向群体。"
    if due_on is None:
        errors["due_on"] = "请选择完成时限。"
    elif due_on < timezone.localdate():
        errors["due_on"] = "完成时限不能早于今天。"
    if errors:
        raise ValidationError(errors)
    rec = Recommendation.objects.create(report=report, concern=concern, action=action, group=group)
    duty = duty_open(
        org=report.org, title=action, due_on=due_on, source=(SourceKind.RECOMMENDATION, rec.pk), actor=actor
    )
    Recommendation.objects.filter(pk=rec.pk).update(duty_id=duty.pk)
    rec.duty_id = duty.pk
    audit.record(
        actor, "insight_recommendation_add", rec, {"report": report.pk, "duty": duty.pk, "group": group}
    )
    return rec


@on_close(SourceKind.RECOMMENDATION)
def _recommendation_done(duty) -> None:
    """A recommendation's duty closed (销号): record when, and what was done (the duty's evidence)."""
    if duty.source_id is None:
        return
    outcome = (duty.evidence or "").strip()[:300] or duty.title[:300]
    done_on = duty.closed_on or timezone.localdate()
    updated = Recommendation.objects.filter(pk=duty.source_id).update(done_on=done_on, outcome=outcome)
    if updated:
        audit.record(None, "insight_recommendation_done", ("insight.recommendation", duty.source_id),
                     {"duty": duty.pk, "fields": ["done_on", "outcome"]})  # fmt: skip


def my_group_q(user) -> Q | None:
    """The closed recommendations addressed to the user's groups and their ancestors (None: no person)."""
    from sizheng.org.models import Person

    person = Person.objects.filter(user=user, left_on__isnull=True).select_related("org").first()
    if person is None:
        return None
    org_path = person.org.path if person.org_id else None
    if org_path is None:
        # Staff who are not party members count in the depth-1 org holding their unit (insight.groups).
        org_path = (
            Org.objects.filter(units=person.unit_id, depth=1)
            .exclude(kind=Org.Kind.LEADING_GROUP)
            .values_list("path", flat=True)
            .first()
        )
    orgs = ancestor_ids(org_path)
    groups = [f"org:{pk}" for pk in orgs] + [f"unit:{person.unit_id}"]
    if person.office_id:
        groups.append(f"office:{person.office_id}")
    # A group id names its people; "" is the whole org of the report (an ancestor of the person's).
    return Q(group__in=groups) | Q(group="", report__org_id__in=orgs)


def my_actions(user):
    """ "你们提出的 → 我们做了": closed recommendations of the user's groups, newest first."""
    q = my_group_q(user)
    if q is None:
        return Recommendation.objects.none()
    return (
        Recommendation.objects.filter(q, done_on__isnull=False)
        .select_related("report", "report__org")
        .distinct()
        .order_by("-done_on", "-pk")
    )
