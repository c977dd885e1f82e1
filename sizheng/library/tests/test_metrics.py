"""The library's metrics: what the subtree published and used in the year (the generic O(1) test in
core/tests/test_metrics.py runs them on 1 vs 50 targets too)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sizheng.core import metrics
from sizheng.core.metrics import Consumer
from sizheng.core.rules import Period
from sizheng.library import services, targets
from sizheng.library.models import Attachment, Material
from sizheng.library.tests.helpers import article, document
from sizheng.study import services as study
from sizheng.study.tests.helpers import lecture

pytestmark = pytest.mark.django_db

YEAR = Period.of("year", 2026)


def _compute(name, cast):
    ids = [cast.root.pk, cast.committee_a.pk, cast.branch_a1.pk, cast.branch_a2.pk, cast.branch_b1.pk]
    return metrics.compute(name, ids, YEAR, consumer=Consumer.DASHBOARD)


def test_it_registers_both_metrics_as_t0_org_metrics():
    for name in ("library.materials_published", "library.materials_attached"):
        m = metrics.get(name)
        assert m.level == "org" and m.tier == "T0" and m.period_kind == "year"
        assert m in metrics.for_consumer(Consumer.ASSESSMENT)


def test_it_counts_published_materials_and_articles_per_subtree_and_year(cast):
    article(cast)  # A1
    document(cast, org=cast.branch_a1)  # A1
    article(cast, publish=False)  # a draft: not counted
    withdrawn = article(cast, title="撤回的")
    services.material_transition(
        actor=cast.secretary_a, material=withdrawn, action="withdraw", version=withdrawn.version
    )
    article(cast, actor=cast.secretary_b, org=cast.branch_b1)  # B1
    last_year = article(cast, title="去年的")
    Material.objects.filter(pk=last_year.pk).update(
        published_at=datetime(2025, 12, 31, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    values = _compute("library.materials_published", cast)
    assert values[cast.branch_a1.pk] == 2
    assert values[cast.committee_a.pk] == 2
    assert values[cast.branch_a2.pk] == 0
    assert values[cast.branch_b1.pk] == 1
    assert values[cast.root.pk] == 3


def test_it_counts_attachments_to_the_subtree_targets_in_the_year(cast):
    material = document(cast, actor=cast.committee_admin, org=cast.root)
    other = article(cast, actor=cast.committee_admin, org=cast.root, title="另一篇")
    session = study.session_link(actor=cast.secretary_a, meeting=lecture(cast, date(2026, 11, 10)))
    lecture_a2 = lecture(cast, date(2026, 11, 11), org=cast.branch_a2)
    for m in (material, other):
        services.attachment_add(actor=cast.secretary_a, material=m,
                                target=targets.get("study_session", session.pk, cast.secretary_a))  # fmt: skip
    services.attachment_add(actor=cast.committee_admin, material=material,
                            target=targets.get("party_lecture", lecture_a2.pk, cast.committee_admin))  # fmt: skip
    old = services.attachment_add(actor=cast.committee_admin, material=other,
                                  target=targets.get("party_lecture", lecture_a2.pk, cast.committee_admin))  # fmt: skip
    Attachment.objects.filter(pk=old.pk).update(
        attached_at=datetime(2025, 6, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    values = _compute("library.materials_attached", cast)
    assert values[cast.branch_a1.pk] == 2
    assert values[cast.branch_a2.pk] == 1
    assert values[cast.committee_a.pk] == 3
    assert values[cast.branch_b1.pk] == 0
    assert values[cast.root.pk] == 3
