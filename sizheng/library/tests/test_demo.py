"""The library demo: about sixty items with real small files, two columns over two years, attachments."""

from __future__ import annotations

import random
from pathlib import Path

import filetype
import pytest
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent, StoredFile
from sizheng.library.demo import demo_library, pdf_bytes
from sizheng.library.models import Attachment, Column, Material, MaterialKind, MaterialState, TargetKind
from sizheng.life.demo import demo_life
from sizheng.org.demo import demo_city
from sizheng.study.demo import demo_study


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


def _generate(seed: int = 5) -> tuple[core_demo.DemoContext, int]:
    ctx = core_demo.DemoContext(
        scale=0.1, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    for name, func in (("life.history", demo_life), ("study.history", demo_study)):
        ctx.rng = random.Random(f"{seed}:{name}")
        func(ctx)
    audit = AuditEvent.objects.count()
    ctx.rng = random.Random(f"{seed}:library.collection")
    demo_library(ctx)
    return ctx, audit


def test_it_writes_a_valid_one_page_pdf():
    data = pdf_bytes("党史学习", ["第一段。", "第二段。"])
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert filetype.guess(data).mime == "application/pdf"
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[xref : xref + 4] == b"xref"


@pytest.mark.django_db
def test_it_builds_the_library_columns_and_uses_without_audit_rows(demo_mode, media):
    _ctx, audit = _generate()
    assert AuditEvent.objects.count() == audit
    materials = Material.objects.all()
    assert 55 <= materials.count() <= 90
    assert materials.filter(kind=MaterialKind.ARTICLE).count() >= 20
    topics_used = set(materials.values_list("topics__name", flat=True))
    assert {"党史", "新中国史", "改革开放史", "社会主义发展史", "法治", "形势政策", "党规党纪"} <= topics_used
    # Every file material has a real small file under MEDIA_ROOT whose content matches its type.
    files = StoredFile.objects.filter(owner_kind="library_material")
    assert files.count() == materials.exclude(kind=MaterialKind.ARTICLE).count() > 30
    for f in files:
        data = (Path(media) / f.path).read_bytes()
        assert len(data) == f.size and (
            data.startswith(b"%PDF") if f.name.endswith(".pdf") else data.decode()
        )
    # Two years, some drafts, one withdrawn.
    today = timezone.localdate()
    years = set(materials.values_list("published_on__year", flat=True))
    assert years == {today.year - 1, today.year}
    assert materials.filter(state=MaterialState.WITHDRAWN).count() == 1
    assert materials.filter(state=MaterialState.DRAFT).exists()
    # Two columns with articles over two years; shuji_a and dangwu_a write for their unit's column.
    columns = list(Column.objects.order_by("pk"))
    assert [c.name for c in columns] == ["机关e课堂", "清风讲堂"]
    for c in columns:
        assert {a.published_on.year for a in c.articles.all()} == {today.year - 1, today.year}
    assert set(columns[1].editors.values_list("username", flat=True)) == {"shuji_a", "dangwu_a"}
    # Used on sessions, plans and 党课 — always a published item for everyone, published before the use.
    kinds = set(Attachment.objects.values_list("target_kind", flat=True))
    assert kinds == {TargetKind.STUDY_SESSION, TargetKind.STUDY_PLAN, TargetKind.PARTY_LECTURE}
    for a in Attachment.objects.select_related("material"):
        assert a.material.state == MaterialState.PUBLISHED and a.material.audience_org_id is None
        assert a.material.published_at <= a.attached_at


@pytest.mark.django_db
def test_it_adds_nothing_when_run_twice(demo_mode, media):
    ctx, _ = _generate()
    counts = [m.objects.count() for m in (Material, Column, Attachment, StoredFile)]
    ctx.rng = random.Random("again")
    demo_library(ctx)
    assert counts == [m.objects.count() for m in (Material, Column, Attachment, StoredFile)]
