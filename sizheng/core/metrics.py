"""The metrics registry (ARCHITECTURE §1): every number the platform shows is declared once.

An app declares its metrics in ``<app>/metrics.py`` and registers them here. A metric's
function computes all requested targets in O(1) queries. A value may be ``Suppressed`` —
never a made-up number. Who may consume a metric depends on its sensitivity tier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class Tier:
    """Sensitivity tiers of ARCHITECTURE §5 as far as metrics are concerned."""

    T0 = "T0"  # duties, meetings, study, results
    T2_META = "T2-meta"  # who / when / mode / status of T2 records (e.g. talk coverage)
    T2 = "T2"  # content, kind, tags: never a metric
    T3 = "T3"  # wellbeing aggregates: counselors, and leaders only over groups ≥ k


class Consumer:
    """Who reads a metric."""

    DASHBOARD = "dashboard"
    ASSESSMENT = "assessment"
    COUNSELOR = "counselor"
    LEADER = "leader"


PERIOD_KINDS = ("month", "quarter", "half", "year")
LEVELS = ("org", "unit")


@dataclass(frozen=True)
class Suppressed:
    """A value withheld (too few people, no data), with a Chinese reason."""

    reason: str

    def __str__(self) -> str:
        return "—"


@dataclass(frozen=True)
class Metric:
    """One declared number."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    period_kind: str
    tier: str
    level: str
    compute: Callable[[list[int], Any], Mapping[int, Any]] = field(compare=False)
    description: str = ""

    def __post_init__(self) -> None:
        if self.period_kind not in PERIOD_KINDS:
            raise ValueError(f"指标 {self.name} 的周期类型 {self.period_kind} 无效。")
        if self.level not in LEVELS:
            raise ValueError(f"指标 {self.name} 的层级 {self.level} 无效。")
        if self.tier == Tier.T2:
            raise ValueError(f"谈话内容、类型和标签（T2）不能作为指标：{self.name}。")
        if self.tier not in (Tier.T0, Tier.T2_META, Tier.T3):
            raise ValueError(f"指标 {self.name} 的敏感级别 {self.tier} 无效。")


class MetricAccessError(PermissionError):
    """A consumer asked for a metric its tier forbids."""


REGISTRY: dict[str, Metric] = {}

# Test support: level → function(n) creating n real targets (the org app registers these),
# so the generic query-count test can run every metric on real rows.
TARGET_FACTORIES: dict[str, Callable[[int], list[int]]] = {}


def register(metric: Metric) -> Metric:
    """Add a metric; one definition per name."""
    existing = REGISTRY.get(metric.name)
    if existing is not None and existing.compute is not metric.compute:
        raise ValueError(f"指标 {metric.name} 已经定义过，一个数字只能有一个定义。")
    REGISTRY[metric.name] = metric
    return metric


def metric(
    name: str,
    *,
    label: str,
    unit: str,
    higher_is_better: bool,
    period_kind: str,
    tier: str,
    level: str,
    description: str = "",
):
    """Decorator form of :func:`register`."""

    def wrap(func):
        register(Metric(name, label, unit, higher_is_better, period_kind, tier, level, func, description))
        return func

    return wrap


def get(name: str) -> Metric:
    try:
        return REGISTRY[name]
    except KeyError:
        raise LookupError(f"没有名为 {name} 的指标。") from None


def allowed(metric: Metric, consumer: str, *, group_size: int | None = None) -> bool:
    """The tier × consumer rule of ARCHITECTURE §1."""
    if metric.tier in (Tier.T0, Tier.T2_META):
        return consumer in (Consumer.DASHBOARD, Consumer.ASSESSMENT, Consumer.LEADER, Consumer.COUNSELOR)
    if metric.tier == Tier.T3:
        if consumer == Consumer.COUNSELOR:
            return True
        if consumer == Consumer.LEADER:
            from django.conf import settings

            return group_size is not None and group_size >= settings.ANONYMITY_MIN_GROUP
        return False  # never the dashboard at large, never assessment
    return False


def compute(
    name: str, targets: Iterable[int], period: Any, *, consumer: str, group_size: int | None = None
) -> dict[int, Any]:
    """Compute a metric for many targets at once, refusing consumers its tier forbids."""
    m = get(name)
    if not allowed(m, consumer, group_size=group_size):
        raise MetricAccessError(f"指标“{m.label}”的数据敏感级别不允许用于{consumer}。")
    ids = list(dict.fromkeys(targets))
    if not ids:
        return {}
    values = dict(m.compute(ids, period))
    # A target with no value is reported as suppressed, never as zero.
    return {t: values.get(t, Suppressed("无数据")) for t in ids}


def for_consumer(consumer: str) -> list[Metric]:
    """Metrics a consumer may list (e.g. the assessment engine's automatic indicators)."""
    return [m for m in REGISTRY.values() if allowed(m, consumer, group_size=None)]


def period_of(kind: str, day: date) -> Any:
    """The period of ``kind`` containing ``day`` (a core.rules Period)."""
    from sizheng.core.rules import Period

    return Period.containing(kind, day)
