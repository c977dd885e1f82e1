"""Indicator systems, weight sets, expert weighting sessions and assessment rounds (测评体系 · 考核).

The scoring model (see README): every leaf indicator yields a **score on 0–100** (the share of its
full marks) from its raw value by its scoring rule; the total is Σ global weight × score, so a
100-point table's 分值 is the global weight × 100. Bonus indicators (加分) sit outside the weights
and add points up to the system's cap; veto indicators (一票否决) force the lowest grade; caps
(e.g. 满意率 < 90 % → not above 一般) are data on the system.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Org, Unit

DEFAULT_BANDS = [
    {"grade": "好", "min": 90},
    {"grade": "较好", "min": 80},
    {"grade": "一般", "min": 60},
    {"grade": "较差", "min": None},
]


def default_bands() -> list:
    return [dict(b) for b in DEFAULT_BANDS]


class SystemKind(models.TextChoices):
    CLASSIFY = "classify", _("基层党组织分类定级")
    THOUGHT = "thought", _("思想政治工作测评")
    CUSTOM = "custom", _("自定义")


class SystemState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    ARCHIVED = "archived", _("已停用")


class MissingPolicy(models.TextChoices):
    REDISTRIBUTE = "redistribute", _("标记“无数据”，权重按比例分给同级其他指标")
    ZERO = "zero", _("按零分计")


class IndicatorSystem(models.Model):
    """One version of an indicator system for a year. Published versions are never edited: a change
    is a new version (``based_on`` the old one); rounds point at the version they used."""

    name = models.CharField(_("体系名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=SystemKind.choices, default=SystemKind.CUSTOM)
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveSmallIntegerField(_("版本号"), default=1)
    description = models.TextField(_("说明"), blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=SystemState.choices, default=SystemState.DRAFT)
    # [{"grade": "好", "min": 90}, …, {"grade": "较差", "min": None}] best first; the last has no minimum.
    grade_bands = models.JSONField(_("等次划分"), default=default_bands)
    # [{"indicator": "<code>", "below": 90, "max_grade": "一般", "label": "…"}]: a leaf's raw value
    # under ``below`` caps the grade (satisfaction caps; ``max_grade`` = the lowest band is a veto).
    caps = models.JSONField(_("等次上限规则"), default=list, blank=True)
    bonus_cap = models.FloatField(_("加分上限"), default=5)
    self_share = models.FloatField(_("自评占比（自评与考核组评分合成时）"), default=0.4)
    missing_policy = models.CharField(
        _("缺数处理"), max_length=16, choices=MissingPolicy.choices, default=MissingPolicy.REDISTRIBUTE
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("基于")
    )
    owner_org = models.ForeignKey(
        Org, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("制定单位")
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("指标体系")
        verbose_name_plural = _("指标体系")
        ordering = ["-year", "name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["name", "year", "number"], name="assess_system_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}（第{self.number}版）"

    @property
    def is_editable(self) -> bool:
        return self.state == SystemState.DRAFT


class ValueSource(models.TextChoices):
    SELF = "self", _("单位自评（附佐证）")
    ASSESSOR = "assessor", _("考核组评分")
    SELF_ASSESSOR = "self_assessor", _("自评与考核组评分合成")
    DEMOCRATIC = "democratic", _("民主测评（问卷）")
    METRIC = "metric", _("平台数据自动取数")


class RuleKind(models.TextChoices):
    DIRECT = "direct", _("直接评分（0—满分）")
    LINEAR = "linear", _("阈值间线性折算")
    DEDUCTION = "deduction", _("按事项扣分")
    BANDS = "bands", _("分档计分")


class IndicatorKind(models.TextChoices):
    SCORED = "scored", _("计分指标")
    BONUS = "bonus", _("加分项")
    VETO = "veto", _("一票否决项")


class Indicator(models.Model):
    """A node of the tree. Inner nodes only carry a local weight; leaves also how they are scored.

    ``rule`` by ``rule_kind`` (all numbers in the raw value's unit):
      direct     {}                                   raw is a score 0–max_score
      linear     {"zero_at": 50, "full_at": 100}       clamp; zero_at > full_at for lower-is-better
      deduction  {"per_event": 3, "max_deduction": 15} raw = number of events
      bands      {"bands": [{"min": 90, "score": 100}, {"min": 80, "score": 80}, {"min": null, "score": 0}]}
    For a bonus indicator the score is points (raw × ``rule.per_event`` or raw, up to ``max_score``);
    for a veto indicator a raw value > 0 (the condition happened) forces the lowest grade.
    """

    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=_("上级指标"),
    )
    code = models.CharField(_("编号"), max_length=20)  # "1", "1.2", "B1" (bonus), "V1" (veto)
    name = models.CharField(_("指标名称"), max_length=100)
    kind = models.CharField(
        _("类别"), max_length=8, choices=IndicatorKind.choices, default=IndicatorKind.SCORED
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    weight = models.FloatField(_("权重（同级之和为 1）"), default=0)
    key_points = models.TextField(_("评分要点"), blank=True)
    method_text = models.TextField(_("评分办法"), blank=True)
    source = models.CharField(
        _("取值来源"), max_length=16, choices=ValueSource.choices, default=ValueSource.ASSESSOR
    )
    metric_name = models.CharField(_("自动取数指标"), max_length=80, blank=True)
    rule_kind = models.CharField(
        _("计分方式"), max_length=12, choices=RuleKind.choices, default=RuleKind.DIRECT
    )
    rule = models.JSONField(_("计分参数"), default=dict, blank=True)
    max_score = models.FloatField(_("满分"), default=100)
    evidence_required = models.BooleanField(_("须上传佐证"), default=False)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["system", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="assess_indicator_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WeightMethod(models.TextChoices):
    DIRECT = "direct", _("直接赋权")
    AHP = "ahp", _("层次分析法（专家判断）")
    ENTROPY = "entropy", _("熵权法")
    COMBINED = "combined", _("组合赋权")


class WeightSet(models.Model):
    """A versioned set of local weights for a system: {indicator id (str): weight}, with how it was made.

    ``details`` keeps what the method reported (per parent: CRs of each expert and of the aggregate,
    entropies, the combination's α), ``params`` the choices (ri_table, priority, alpha, source round…)."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="weight_sets")
    number = models.PositiveSmallIntegerField(_("版本号"))
    name = models.CharField(_("名称"), max_length=100)
    method = models.CharField(_("赋权方法"), max_length=12, choices=WeightMethod.choices)
    params = models.JSONField(_("方法参数"), default=dict)
    weights = models.JSONField(_("权重"), default=dict)
    details = models.JSONField(_("计算记录"), default=dict)
    sources = models.ManyToManyField("self", symmetrical=False, blank=True, verbose_name=_("组合来源"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("权重方案")
        verbose_name_plural = _("权重方案")
        ordering = ["system", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["system", "number"], name="assess_weightset_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.name}（第{self.number}版·{self.get_method_display()}）"


class SessionState(models.TextChoices):
    OPEN = "open", _("征集中")
    CLOSED = "closed", _("已结束")


class WeightingSession(models.Model):
    """Experts invited to give pairwise judgments for a system's parents (one form per parent)."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("名称"), max_length=100)
    instructions = models.TextField(_("填写说明"), blank=True)
    due_on = models.DateField(_("截止日期"), null=True, blank=True)
    priority = models.CharField(_("排序向量算法"), max_length=12, default="eigenvector")
    ri_table = models.CharField(_("RI 表"), max_length=16, default="saaty_cn")
    threshold = models.FloatField(_("一致性比率阈值"), default=0.1)
    state = models.CharField(_("状态"), max_length=8, choices=SessionState.choices, default=SessionState.OPEN)
    experts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("专家")
    )
    result = models.ForeignKey(
        WeightSet,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("汇总结果"),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("专家赋权")
        verbose_name_plural = _("专家赋权")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Judgment(models.Model):
    """One expert's pairwise comparisons of one parent's children (``parent`` null = the top level).

    ``pairs`` = [[a_indicator_id, b_indicator_id, value], …] meaning a over b on Saaty's 1–9 scale
    (value < 1 = b over a). ``cr`` / ``consistent`` as last computed; ``submitted_at`` set when the
    expert hands it in (it may be saved and resumed before)."""

    session = models.ForeignKey(WeightingSession, on_delete=models.CASCADE, related_name="judgments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    pairs = models.JSONField(default=list)
    cr = models.FloatField(null=True, blank=True)
    consistent = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("判断矩阵")
        verbose_name_plural = _("判断矩阵")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "expert", "parent"], name="assess_judgment_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"判断矩阵 {self.pk}"


class RoundState(models.TextChoices):
    DRAFT = "draft", _("准备中")
    OPEN = "open", _("自评和评分中")
    LOCKED = "locked", _("已锁定")
    COMPUTED = "computed", _("已计算")
    PUBLISHED = "published", _("已发布")


class Assessment(models.Model):
    """An assessment round (考核 / 测评轮次) of a system version over a period."""

    title = models.CharField(_("轮次名称"), max_length=120)
    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, related_name="rounds")
    weight_set = models.ForeignKey(
        WeightSet, null=True, blank=True, on_delete=models.PROTECT, related_name="rounds",
        verbose_name=_("权重方案（空 = 体系内的直接权重）"),
    )  # fmt: skip
    owner_org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("组织单位"))
    period_start = models.DateField(_("考核期开始"))
    period_end = models.DateField(_("考核期结束"))
    self_due_on = models.DateField(_("自评截止"), null=True, blank=True)
    scoring_due_on = models.DateField(_("评分截止"), null=True, blank=True)
    democratic_survey = models.ForeignKey(
        "insight.Survey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("民主测评问卷"),
    )  # fmt: skip
    use_topsis = models.BooleanField(_("同时给出 TOPSIS 排序"), default=False)
    rectify_below = models.FloatField(_("指标得分率低于此值（%）时下发整改"), default=60)
    state = models.CharField(_("状态"), max_length=12, choices=RoundState.choices, default=RoundState.DRAFT)
    # What the computation used and found: methods, parameters, weights (global, per leaf), TOPSIS
    # reference (frozen at publication), sensitivity settings, indicators without data.
    record = models.JSONField(_("计算记录"), default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("考核轮次")
        verbose_name_plural = _("考核轮次")
        ordering = ["-period_end", "-id"]

    def __str__(self) -> str:
        return self.title


class Target(models.Model):
    """One assessed unit of a round: a party organisation (and its 单位, for unit-level metrics)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="targets")
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("党组织"))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    self_submitted_at = models.DateTimeField(null=True, blank=True)
    # Results (set by the computation).
    base_total = models.FloatField(null=True, blank=True)  # weighted total before bonus
    bonus = models.FloatField(null=True, blank=True)
    total = models.FloatField(null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=8, blank=True)
    grade_reason = models.CharField(_("等次说明"), max_length=200, blank=True)  # veto / cap applied
    rank = models.PositiveIntegerField(null=True, blank=True)
    closeness = models.FloatField(null=True, blank=True)
    topsis_rank = models.PositiveIntegerField(null=True, blank=True)
    rank_min = models.PositiveIntegerField(null=True, blank=True)
    rank_max = models.PositiveIntegerField(null=True, blank=True)
    grade_change_probability = models.FloatField(null=True, blank=True)
    missing = models.JSONField(default=list, blank=True)  # codes of indicators marked 无数据
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("被考核单位")
        verbose_name_plural = _("被考核单位")
        ordering = ["assessment", "org__path"]
        constraints = [models.UniqueConstraint(fields=["assessment", "org"], name="assess_target_unique_org")]

    def __str__(self) -> str:
        return str(self.org)


class AssessorAssignment(models.Model):
    """An assessor (考核组 member) assigned to score one target of a round."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="assessors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("考核组分工")
        verbose_name_plural = _("考核组分工")
        constraints = [models.UniqueConstraint(fields=["target", "user"], name="assess_assignment_unique")]

    def __str__(self) -> str:
        return f"考核组分工 {self.pk}"


class Entry(models.Model):
    """A value entered for a leaf: a unit's self-assessment or an assessor's score, with evidence.

    ``value`` is in the indicator's raw unit (a score for direct rules, a count of events for
    deduction rules, a rate for linear/bands); evidence files are StoredFiles with
    owner_kind "assess.entry" and owner_id = this entry."""

    class Side(models.TextChoices):
        SELF = "self", _("自评")
        ASSESSOR = "assessor", _("考核组")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="entries")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=8, choices=Side.choices)
    value = models.FloatField(_("取值"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("自评与评分")
        verbose_name_plural = _("自评与评分")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "indicator", "side", "entered_by"], name="assess_entry_unique",
                nulls_distinct=False,
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.pk}"


class LineStatus(models.TextChoices):
    OK = "ok", _("正常")
    NO_DATA = "no_data", _("无数据")
    SUPPRESSED = "suppressed", _("人数不足未公开")


class ResultLine(models.Model):
    """A computed leaf (or bonus/veto) value of one target: raw value, score 0–100, weighted points."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="lines")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    raw = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)  # 0–100 (bonus: points)
    global_weight = models.FloatField(default=0)  # after redistribution
    points = models.FloatField(null=True, blank=True)  # score × global weight
    status = models.CharField(max_length=12, choices=LineStatus.choices, default=LineStatus.OK)
    note = models.CharField(max_length=200, blank=True)
    duty = models.ForeignKey(
        "duties.Duty", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("整改事项"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("指标得分")
        verbose_name_plural = _("指标得分")
        constraints = [models.UniqueConstraint(fields=["target", "indicator"], name="assess_line_unique")]

    def __str__(self) -> str:
        return f"指标得分 {self.pk}"
