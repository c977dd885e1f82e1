"""Demo data: a study library of about sixty items across the topics, two in-house columns with two
years of articles, and materials used on study plans, study sessions and 党课.

- The 机关工委 publishes most of the library for everyone: small real files — PDFs (a one-page A4 with
  the standard Adobe CJK font ``STSong-Light``, no font embedded) and UTF-8 text files — and in-house
  articles typed in; a few units publish for their own people. Published dates spread over last year
  and this year; a few recent items are still drafts, one was withdrawn.
- Two columns: “机关e课堂” of the 机关工委 (for everyone) and “清风讲堂” of shuji_a's unit (for its own
  people; the committee admin named shuji_a and dangwu_a as authors), each with articles over two years.
- About a quarter of the study sessions and a fifth of the plans and 党课 use one or two materials
  (published before they were attached, with an audience that includes the target's org).

No audio or video in the demo (a real recording would be large). History is written with bulk inserts,
not through ``services``: no audit rows and no notifications. Files go to the media storage like uploads.
Deterministic from the generator's stream; skipped when the library already has materials.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time, timedelta

from sizheng.core.demo import generator

BATCH = 2000

# (topic, title, source, kind of file) — "pdf" / "txt" files, "article" typed in by the 机关工委.
LIBRARY = [
    ("党史", "《中国共产党简史》导读", "学习出版社", "pdf"),
    ("党史", "中国共产党历史上的重要会议（学习辅导）", "市直机关工委", "pdf"),
    ("党史", "伟大建党精神专题讲稿", "市直机关工委", "txt"),
    ("党史", "延安整风运动的历史经验", "党史研究期刊摘编", "pdf"),
    ("党史", "遵义会议的伟大转折", "市直机关工委", "article"),
    ("党史", "红色家书选读", "人民网", "txt"),
    ("新中国史", "新中国成立初期的社会主义改造", "当代中国出版社", "pdf"),
    ("新中国史", "“两弹一星”精神学习材料", "新华网", "txt"),
    ("新中国史", "伟大抗美援朝精神专题学习", "市直机关工委", "pdf"),
    ("新中国史", "从“一五”计划看新中国工业化起步", "市直机关工委", "article"),
    ("新中国史", "新中国发展成就图解（文字版）", "国家统计局公开资料", "txt"),
    ("改革开放史", "改革开放的伟大成就与宝贵经验", "人民出版社", "pdf"),
    ("改革开放史", "真理标准问题大讨论始末", "党史研究期刊摘编", "txt"),
    ("改革开放史", "经济特区建设的历史回顾", "市直机关工委", "pdf"),
    ("改革开放史", "浦东开发开放的启示", "新华网", "txt"),
    ("改革开放史", "小岗村“大包干”的故事", "市直机关工委", "article"),
    ("社会主义发展史", "科学社会主义基本原则学习读本", "中央党校出版社", "pdf"),
    ("社会主义发展史", "社会主义从空想到科学的发展", "市直机关工委", "txt"),
    ("社会主义发展史", "《共产党宣言》导读", "人民出版社", "pdf"),
    ("社会主义发展史", "中国特色社会主义的历史由来", "市直机关工委", "article"),
    ("法治", "习近平法治思想学习纲要辅导", "人民出版社", "pdf"),
    ("法治", "《中华人民共和国宪法》学习要点", "司法部普法网", "txt"),
    ("法治", "《中华人民共和国民法典》机关干部读本", "法律出版社", "pdf"),
    ("法治", "行政复议法修订要点解读", "司法部普法网", "txt"),
    ("法治", "机关干部学法用法案例选编", "市司法局", "pdf"),
    ("法治", "《中华人民共和国公职人员政务处分法》解读", "中央纪委国家监委网站", "txt"),
    ("法治", "国家宪法日：宪法就在我们身边", "市直机关工委", "article"),
    ("形势政策", "当前国内外经济形势分析", "市发展改革委", "pdf"),
    ("形势政策", "中央经济工作会议精神解读", "新华网", "txt"),
    ("形势政策", "全国两会精神学习要点", "人民网", "pdf"),
    ("形势政策", "总体国家安全观学习材料", "市委国安办", "txt"),
    ("形势政策", "读懂新质生产力", "市直机关工委", "article"),
    ("党规党纪", "《中国共产党纪律处分条例》逐条解读", "中国方正出版社", "pdf"),
    ("党规党纪", "中央八项规定及其实施细则精神学习问答", "中央纪委国家监委网站", "txt"),
    ("党规党纪", "《中国共产党支部工作条例（试行）》学习要点", "市直机关工委", "pdf"),
    ("党规党纪", "违反中央八项规定精神典型案例通报汇编", "市纪委监委", "pdf"),
    ("党规党纪", "《中国共产党党员教育管理工作条例》解读", "共产党员网", "txt"),
    ("党规党纪", "把纪律挺在前面", "市直机关工委", "article"),
    ("理论学习", "《习近平谈治国理政》第五卷学习辅导", "外文出版社", "pdf"),
    ("理论学习", "习近平新时代中国特色社会主义思想学习纲要导读", "学习出版社", "pdf"),
    ("理论学习", "党的二十届四中全会精神学习辅导", "人民出版社", "pdf"),
    ("理论学习", "习近平文化思想学习要点", "市直机关工委", "txt"),
    ("理论学习", "习近平经济思想学习要点", "市直机关工委", "txt"),
    ("理论学习", "学思用贯通、知信行统一", "市直机关工委", "article"),
    ("理论学习", "读原著、学原文、悟原理的方法", "市直机关工委", "article"),
    ("其他", "机关干部心理健康常识", "市卫生健康委", "txt"),
    ("其他", "公文写作规范（GB/T 9704-2012）要点", "市委办公厅", "pdf"),
    ("其他", "保密工作常识学习材料", "市国家保密局", "txt"),
    ("其他", "机关干部健康生活方式指引", "市直机关工委", "article"),
]  # fmt: skip

UNIT_ITEMS = [
    ("党规党纪", "本单位廉政风险防控手册", "txt"),
    ("法治", "本单位法治机关建设工作要点", "txt"),
    ("理论学习", "本单位理论学习中心组学习资料汇编", "pdf"),
]

COLUMNS = {
    "e": (
        "机关e课堂",
        "市直机关工委的网络思政课堂：每期一个主题，讲理论、讲党史、讲纪律，供机关党员干部随时学习。",
        [
            ("理论学习", "从“赶考”精神看机关作风建设"),
            ("理论学习", "读懂“两个确立”的决定性意义"),
            ("理论学习", "机关干部如何做到学思用贯通"),
            ("党规党纪", "以案说纪：违规吃喝的“变种”与防范"),
            ("法治", "民法典里的“机关日常”"),
            ("形势政策", "调查研究要在“深、实、细、准、效”上下功夫"),
            ("改革开放史", "从改革开放史看敢闯敢干"),
            ("党史", "党史中的机关作风故事"),
            ("形势政策", "总体国家安全观与机关保密工作"),
            ("其他", "社会主义核心价值观的机关实践"),
        ],
    ),
    "q": (
        "清风讲堂",
        "本单位的廉洁文化专栏：讲纪律规矩、讲廉洁故事、讲家风建设，面向本单位党员干部。",
        [
            ("党规党纪", "廉洁从政从家风做起"),
            ("党规党纪", "“小节”不小：公务接待的规矩"),
            ("党史", "党史上的廉洁故事：方志敏《清贫》"),
            ("党规党纪", "新修订《纪律处分条例》要点速览"),
            ("党规党纪", "警惕“温水煮青蛙”式围猎"),
            ("党规党纪", "守住节假日的“廉洁关”"),
            ("法治", "法治思维与依法行政"),
            ("理论学习", "青年干部要扣好人生第一粒扣子"),
        ],
    ),
}

PARAGRAPHS = [
    "学习{t}，要坚持读原著、学原文、悟原理，把学习成果转化为做好本职工作的思路举措。",
    "机关党员干部要把{t}同履职尽责结合起来，在学深悟透上下功夫，在融会贯通上下功夫，在知行合一上下功夫。",
    "各党支部可以结合“三会一课”和主题党日组织集中学习{t}，并安排党员交流学习体会。",
    "{t}内容丰富、意义深远。要联系思想和工作实际，查找差距不足，明确努力方向。",
    "学习中要注意把个人自学与集中研讨结合起来，把理论学习与调查研究结合起来，做到学有所思、学有所得。",
]
POINTS = [
    "把握主要内容和精神实质",
    "联系本单位、本岗位工作实际",
    "对照检查，找差距、补短板",
    "形成可落实的具体举措",
    "持续跟进，抓好成果转化",
]


def _article(rng, title: str) -> str:
    """A short article in the library's markdown-ish conventions (headings, paragraphs, a list)."""
    points = rng.sample(POINTS, 3)
    return "\n\n".join([
        rng.choice(PARAGRAPHS).format(t=f"“{title}”"),
        "# 一、为什么要学",
        rng.choice(PARAGRAPHS).format(t="这一内容"),
        "# 二、怎么学",
        "\n".join(f"- {p}" for p in points),
        "# 三、学了怎么用",
        rng.choice(PARAGRAPHS).format(t="相关内容") + "**学习不是任务，而是本领。**",
    ])  # fmt: skip


def _text_file(title: str, source: str, paragraphs: list[str]) -> bytes:
    return "\n\n".join([title, f"来源：{source}", *paragraphs]).encode("utf-8")


def _ucs2_hex(text: str) -> str:
    """A PDF string in UniGB-UCS2-H (UTF-16BE of BMP characters; others dropped)."""
    return "".join(f"{ord(c):04X}" for c in text if ord(c) < 0x10000)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def pdf_bytes(title: str, paragraphs: list[str]) -> bytes:
    """A one-page A4 PDF with Chinese text in the standard Adobe font STSong-Light (nothing embedded)."""
    lines = [("18", t) for t in _wrap(title, 24)] + [("12", "")]
    for p in paragraphs:
        lines += [("12", t) for t in _wrap(p, 36)] + [("12", "")]
    ops = ["BT", "72 780 Td"]
    for size, t in lines[:48]:
        ops.append(f"/F1 {size} Tf <{_ucs2_hex(t)}> Tj 0 -{int(size) + 8} Td")
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _day_between(rng, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


@generator("library.collection", order=380, label="学习资料库：资料、思政专栏、资料使用")
def demo_library(ctx) -> None:  # noqa: C901 (one pass, in order)
    """The library, two columns and attachments (skipped when materials already exist)."""
    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.utils import timezone

    from sizheng.core.models import StoredFile, User
    from sizheng.core.storage import media_storage
    from sizheng.library.models import (
        MATERIAL_OWNER_KIND,
        Attachment,
        Column,
        Material,
        MaterialKind,
        MaterialState,
        TargetKind,
        Topic,
    )
    from sizheng.life.models import Meeting, MeetingKind
    from sizheng.org.access import ancestor_ids
    from sizheng.org.models import Org, Person
    from sizheng.study.models import StudyPlan, StudySession

    if Material.objects.exists():
        ctx.log("  已有学习资料，跳过学习资料库。")
        return
    root = Org.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        ctx.log("  没有组织树，跳过学习资料库。")
        return
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    first_day = date(today.year - 1, 1, 1)
    topics = {t.name: t for t in Topic.objects.all()}
    accounts = ctx.shared.get("accounts") or {}
    gongwei = (
        accounts.get("gongwei")
        or User.objects.filter(username="gongwei").values_list("pk", flat=True).first()
    )

    def at(day: date, hour: int = 10) -> datetime:
        return min(now, datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=tz))

    materials: list[Material] = []
    topic_of: list[list[str]] = []
    payloads: list[tuple[str, bytes] | None] = []  # (ext, content) for file materials

    def add(
        *, topic, title, source, kind, org_id, audience_id, column=None, author=None, when=None, state=None
    ):
        day = when or _day_between(rng, first_day, today)
        published_at = at(day)
        if state is None:
            recent = (today - day).days < 30
            state = MaterialState.DRAFT if recent and rng.random() < 0.3 else MaterialState.PUBLISHED
        paragraphs = [rng.choice(PARAGRAPHS).format(t=f"“{title}”") for _ in range(3)]
        summary = paragraphs[0]
        body, payload = "", None
        if kind == "article":
            body = _article(rng, title)
            mkind = MaterialKind.ARTICLE
        else:
            mkind = MaterialKind.DOCUMENT
            content = pdf_bytes(title, paragraphs) if kind == "pdf" else _text_file(title, source, paragraphs)
            payload = (kind, content)
        materials.append(
            Material(
                kind=mkind, title=title, summary=summary, source=source, published_on=day, org_id=org_id,
                audience_org_id=audience_id, column=column, body=body, state=state,
                published_at=published_at if state != MaterialState.DRAFT else None,
                created_by_id=author, created_at=published_at - timedelta(hours=rng.randint(1, 48)),
            )
        )  # fmt: skip
        extra = [rng.choice([n for n in topics if n != topic])] if rng.random() < 0.25 else []
        topic_of.append([topic, *extra])
        payloads.append(payload)

    for topic, title, source, kind in LIBRARY:
        add(
            topic=topic,
            title=title,
            source=source,
            kind=kind,
            org_id=root.pk,
            audience_id=None,
            author=gongwei,
        )
    # One item the 机关工委 withdrew (superseded by a newer edition).
    add(topic="党规党纪", title="《中国共产党纪律处分条例》学习问答（旧版）", source="市直机关工委", kind="txt",
        org_id=root.pk, audience_id=None, author=gongwei, when=first_day + timedelta(days=40),
        state=MaterialState.WITHDRAWN)  # fmt: skip
    unit_roots = list(
        Org.objects.filter(depth=1, dissolved_on__isnull=True)
        .exclude(kind__in=[Org.Kind.LEADING_GROUP, Org.Kind.WORK_COMMITTEE])
        .order_by("path")
        .values_list("pk", "name")
    )
    for org_id, name in rng.sample(unit_roots, min(len(unit_roots), 4)):
        topic, title, kind = rng.choice(UNIT_ITEMS)
        add(topic=topic, title=title.replace("本单位", name.removesuffix("机关委员会").removesuffix("委员会")),
            source=name, kind=kind, org_id=org_id, audience_id=org_id)  # fmt: skip

    # The two columns: the 机关工委's for everyone, shuji_a's unit's for its own people.
    shuji_a = User.objects.filter(username="shuji_a").values_list("pk", flat=True).first()
    dangwu_a = User.objects.filter(username="dangwu_a").values_list("pk", flat=True).first()
    home = None
    if shuji_a is not None:
        org_path = Person.objects.filter(user_id=shuji_a).values_list("org__path", flat=True).first()
        chain = ancestor_ids(org_path)
        if len(chain) > 1:
            home = Org.objects.filter(pk=chain[1]).first()  # the unit's root org, just below the 工委
    if home is None and unit_roots:
        home = Org.objects.get(pk=unit_roots[0][0])
    columns: list[tuple[Column, list[tuple[str, str]], int | None]] = []
    name, description, items = COLUMNS["e"]
    col_e = Column(org=root, name=name, description=description, created_by_id=gongwei,
                   created_at=at(first_day + timedelta(days=10)))  # fmt: skip
    columns.append((col_e, items, None))
    if home is not None:
        name, description, items = COLUMNS["q"]
        col_q = Column(org=home, name=name, description=description, created_by_id=gongwei,
                       created_at=at(first_day + timedelta(days=20)))  # fmt: skip
        columns.append((col_q, items, home.pk))
    with transaction.atomic():
        Column.objects.bulk_create([c for c, _i, _a in columns])
        if len(columns) > 1:
            through = Column.editors.through
            through.objects.bulk_create(
                [through(column_id=columns[1][0].pk, user_id=u) for u in (shuji_a, dangwu_a) if u is not None]
            )
        for column, items, audience in columns:
            span = (today - column.created_at.date()).days
            author = gongwei if audience is None else (shuji_a or gongwei)
            for i, (topic, title) in enumerate(items):
                day = column.created_at.date() + timedelta(days=round(span * (i + 0.5) / len(items)))
                last = i == len(items) - 1
                state = MaterialState.DRAFT if last else MaterialState.PUBLISHED
                add(topic=topic, title=f"第{i + 1}期｜{title}" if audience is None else title,
                    source=column.name, kind="article", org_id=column.org_id, audience_id=audience,
                    column=column, author=author, when=min(day, today), state=state)  # fmt: skip

        Material.objects.bulk_create(materials, batch_size=BATCH)
        mt = Material.topics.through
        mt.objects.bulk_create(
            [mt(material_id=m.pk, topic_id=topics[n].pk) for m, names in zip(materials, topic_of, strict=True)
             for n in dict.fromkeys(names) if n in topics],
            batch_size=BATCH,
        )  # fmt: skip
        stored: list[StoredFile] = []
        owners: list[Material] = []
        storage = media_storage()
        for m, payload in zip(materials, payloads, strict=True):
            if payload is None:
                continue
            ext, content = payload
            uid = uuid.UUID(int=rng.getrandbits(128), version=4)
            # Through the media storage like an upload (the filesystem with the uploads' file mode, or MinIO).
            rel = storage.save(f"{m.created_at.astimezone(tz):%Y/%m}/{uid.hex}.{ext}", ContentFile(content))
            stored.append(StoredFile(
                uid=uid, name=f"{m.title}.{ext}"[:255], size=len(content),
                content_type="application/pdf" if ext == "pdf" else "text/plain",
                sha256=hashlib.sha256(content).hexdigest(), path=rel, owner_kind=MATERIAL_OWNER_KIND,
                owner_id=m.pk, uploaded_by_id=m.created_by_id, uploaded_at=m.created_at,
            ))  # fmt: skip
            owners.append(m)
        StoredFile.objects.bulk_create(stored, batch_size=BATCH)
        for m, f in zip(owners, stored, strict=True):
            m.file = f
        Material.objects.bulk_update(owners, ["file"], batch_size=BATCH)

        # Use: published materials for everyone (or for the target's unit), published before the use.
        usable = sorted(
            (m for m in materials if m.state == MaterialState.PUBLISHED and m.audience_org_id is None),
            key=lambda m: m.published_at,
        )
        attachments: list[Attachment] = []

        def use(kind: str, target_id: int, org_id: int, when: datetime, share: float) -> None:
            if rng.random() >= share:
                return
            pool = [m for m in usable if m.published_at <= when]
            attachments.extend(
                Attachment(material=m, target_kind=kind, target_id=target_id, org_id=org_id,
                           attached_by_id=gongwei, attached_at=when)
                for m in rng.sample(pool, min(len(pool), rng.choice([1, 1, 2])))
            )  # fmt: skip

        sessions = (
            StudySession.objects.filter(meeting__starts_at__date__gte=first_day)
            .order_by("pk")
            .values_list("pk", "meeting__org_id", "meeting__starts_at")
        )
        for pk, org_id, starts in sessions:
            use(
                TargetKind.STUDY_SESSION,
                pk,
                org_id,
                min(now, starts - timedelta(days=rng.randint(1, 5))),
                0.25,
            )
        for pk, org_id, created in (
            StudyPlan.objects.filter(year__gte=first_day.year)
            .order_by("pk")
            .values_list("pk", "org_id", "created_at")
        ):
            use(
                TargetKind.STUDY_PLAN,
                pk,
                org_id,
                min(now, created + timedelta(days=rng.randint(20, 120))),
                0.3,
            )
        lectures = (
            Meeting.objects.filter(kind=MeetingKind.PARTY_LECTURE, starts_at__date__gte=first_day)
            .order_by("pk")
            .values_list("pk", "org_id", "starts_at")
        )
        for pk, org_id, starts in lectures:
            use(
                TargetKind.PARTY_LECTURE,
                pk,
                org_id,
                min(now, starts - timedelta(days=rng.randint(1, 3))),
                0.2,
            )
        Attachment.objects.bulk_create(attachments, batch_size=BATCH)
    articles = sum(1 for m in materials if m.kind == MaterialKind.ARTICLE)
    ctx.log(
        f"  学习资料 {len(materials)} 条（文件 {len(stored)} 个，文章 {articles} 篇），思政专栏 {len(columns)} 个，"
        f"资料使用 {len(attachments)} 次。"
    )
