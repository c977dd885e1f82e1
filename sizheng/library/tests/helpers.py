"""Small builders for the library tests (materials go through the services, like the app)."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from sizheng.core.models import AuditEvent
from sizheng.library import services
from sizheng.library.demo import pdf_bytes
from sizheng.library.models import Material, Topic

TODAY = date(2026, 11, 20)
PDF = pdf_bytes("学习资料", ["第一段内容。", "第二段内容。"])
TXT = "党史学习资料\n\n第一段。".encode()


def topic(name: str = "党史") -> Topic:
    return Topic.objects.get(name=name)


def pdf_upload(name: str = "党史读本.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def txt_upload(name: str = "学习资料.txt", content: bytes = TXT) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def article(cast, *, actor=None, org=None, title="学习党章的体会", body="# 一、学习\n\n第一段。", audience=None,
            topics=("党史",), publish=True, column=None, published_on=TODAY) -> Material:  # fmt: skip
    """An article of branch A1 (for its subtree unless ``audience`` says otherwise)."""
    org = org or cast.branch_a1
    return services.material_create(
        actor=actor or cast.secretary_a, org=org, title=title, published_on=published_on,
        topics=[topic(n) for n in topics], body=body, column=column, publish=publish,
        audience_org=audience if audience is not None else (None if org.depth == 0 else org),
    )  # fmt: skip


def document(cast, *, actor=None, org=None, title="党史读本", upload=None, audience=None, topics=("党史",),
             publish=True) -> Material:  # fmt: skip
    org = org or cast.branch_a1
    return services.material_create(
        actor=actor or cast.secretary_a, org=org, title=title, published_on=TODAY,
        topics=[topic(n) for n in topics], upload=upload or pdf_upload(), publish=publish,
        audience_org=audience if audience is not None else (None if org.depth == 0 else org),
    )  # fmt: skip


def audited(action: str, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_id=str(obj.pk))
    return qs.exists()
