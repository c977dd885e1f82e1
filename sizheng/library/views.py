"""Screens of the library: the searchable list, a material's page (its article or file, where it is
used, the publishing actions), adding materials to study plans / sessions / 党课, the topics, and the
in-house columns with their articles.

Each view checks access (library.access: 404 outside scope, 403 for a visible item the user may not
change), validates a form, calls one service and renders. A failed form re-renders with 422, a stale
version with 409; a wrong method gets 405. Nothing here records who read what or for how long.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, files, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.library import access, forms, services, targets
from sizheng.library.models import Attachment, Column, Material, MaterialState, TargetKind, Topic
from sizheng.org.access import ancestor_ids, manages_org, require
from sizheng.org.models import Org

NO_MANAGED_ORG = "您不是任何党组织的书记或党务干部，不能发布学习资料。"
COMMITTEE_ONLY = "只有机关工委管理员可以维护资料主题。"


def _conflict_message(exc: Conflict) -> str:
    return getattr(exc, "message", "") or "该资料已被他人修改，请刷新页面后重试。"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


def _subtree(org: Org):
    return Org.objects.filter(path__startswith=org.path).order_by("path")


# --- the list ------------------------------------------------------------------------------------


def _filtered(request: HttpRequest):
    """The materials the user sees, narrowed by the filter form (a bad value is ignored)."""
    user = request.user
    manager = access.may_manage_anything(user)
    visible = Material.objects.visible_to(user)
    orgs = Org.objects.filter(pk__in=visible.values("org_id")).order_by("path")
    form = forms.FilterForm(request.GET or None, orgs=orgs, show_state=manager)
    qs = visible
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        through = Material.topics.through
        if d["q"]:
            word = d["q"].strip()
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(summary__icontains=word)
                | Q(source__icontains=word)
                | Q(pk__in=through.objects.filter(topic__name__icontains=word).values("material_id"))
            )
        if d["topic"]:
            qs = qs.filter(pk__in=through.objects.filter(topic=d["topic"]).values("material_id"))
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["org"]:
            qs = qs.filter(org__path__startswith=d["org"].path)
        if d["year"]:
            qs = qs.filter(published_on__year=d["year"])
        if d.get("state"):
            qs = qs.filter(state=d["state"])
    return form, qs.order_by("-published_on", "-pk")


@login_required
@require_GET
def materials(request: HttpRequest) -> HttpResponse:
    """Search the library by title, summary, source or topic; filter by topic, type, org and year."""
    form, qs = _filtered(request)
    page = paginate(request, qs.for_list())
    ctx = {
        "form": form,
        "page": page,
        "can_create": access.may_manage_anything(request.user),
        "filtered": bool(request.GET.get("q") or request.GET.get("topic") or request.GET.get("kind")
                         or request.GET.get("org") or request.GET.get("year") or request.GET.get("state")),
        "topics": Topic.objects.filter(is_active=True),
    }  # fmt: skip
    return render(request, "library/materials.html", ctx)


@login_required
@require_GET
def materials_ledger(request: HttpRequest) -> HttpResponse:
    """The filtered list as an Excel ledger (audited; metadata only, never article text)."""
    _form, qs = _filtered(request)
    rows = (
        (
            m.title,
            m.get_kind_display(),
            "、".join(t.name for t in m.topics.all()),
            m.source,
            m.published_on,
            m.org.name,
            m.audience_org.name if m.audience_org else "全体人员",
            m.column.name if m.column else "",
            m.get_state_display(),
            m.n_attached,
        )
        for m in qs.for_list().annotate(n_attached=Count("attachments")).iterator(chunk_size=500)
    )
    data = write_ledger(
        title="学习资料台账",
        headers=[
            "标题",
            "类型",
            "主题",
            "来源",
            "发布日期",
            "所属组织",
            "阅览范围",
            "所属专栏",
            "状态",
            "使用次数",
        ],
        rows=rows,
        col_widths=[40, 8, 24, 16, 12, 28, 24, 16, 8, 10],
        note=f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}  导出人：{request.user}",
    )
    audit.record(request.user, "library_ledger_export", None, {"filters": sorted(k for k in request.GET if request.GET[k])},
                 request=request)  # fmt: skip
    return xlsx_response(data, f"学习资料台账{timezone.localdate():%Y%m%d}")


# --- one material --------------------------------------------------------------------------------


def _material_form_page(
    request, form, *, heading: str, cancel_url: str, material=None, column=None, status=200
):
    ctx = {"form": form, "heading": heading, "cancel_url": cancel_url, "material": material, "column": column}
    return render(request, "library/material_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def material_create(request: HttpRequest) -> HttpResponse:
    """Upload a file or write an article, with its topics and audience; save as a draft or publish."""
    user = request.user
    require(access.may_manage_anything(user), NO_MANAGED_ORG)
    orgs = access.managed_orgs(user).order_by("path")
    form = forms.MaterialForm(request.POST or None, request.FILES or None, orgs=orgs, audience_orgs=orgs)
    if request.method == "GET":
        first = orgs.first()
        form.initial["audience_org"] = first.pk if first is not None and first.depth != 0 else None

    def save(d):
        return services.material_create(
            actor=user, upload=request.FILES.get("upload"), publish=form.publish,
            **{k: v for k, v in form.service_kwargs().items() if k != "upload"},
        )  # fmt: skip

    material, status = formflow.run(request, form, save)
    if material is not None:
        done = "已发布" if material.state == MaterialState.PUBLISHED else "已保存为草稿"
        messages.success(request, f"学习资料“{material.title}”{done}。")
        return redirect("library:material_detail", pk=material.pk)
    return _material_form_page(request, form, heading="发布学习资料", cancel_url=reverse("library:materials"),
                               status=status)  # fmt: skip


def _render_detail(
    request, material: Material, *, transition_form=None, attach_form=None, message="", status=200
):
    user = request.user
    can_edit = access.may_edit_material(user, material)
    used = list(
        Attachment.objects.filter(material=material).select_related("org").order_by("attached_at", "pk")
    )
    seen = targets.visible([(a.target_kind, a.target_id) for a in used], user)
    uses = [
        {
            "attachment": a,
            "target": seen[(a.target_kind, a.target_id)],
            "can_remove": manages_org(user, a.org),
        }
        for a in used
        if (a.target_kind, a.target_id) in seen
    ]
    manager = access.may_manage_anything(user)
    if attach_form is None and manager and material.state == MaterialState.PUBLISHED:
        attach_form = forms.AttachForm(choices=targets.recent_managed(user, access.managed_orgs(user)))
    ctx = {
        "material": material,
        "topics": list(material.topics.all()),
        "can_edit": can_edit,
        "actions": services.available_actions(material.state) if can_edit else [],
        "transition_form": transition_form or forms.TransitionForm(initial={"version": material.version}),
        "attach_form": attach_form if material.state == MaterialState.PUBLISHED else None,
        "uses": uses,
        "message": message,
    }
    return render(request, "library/material_detail.html", ctx, status=status)


@login_required
@require_GET
def material_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The article (rendered safely) or the file, its metadata and where it is used."""
    return _render_detail(request, access.get_material_or_404(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def material_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the metadata, the article text or replace the file (hidden version: stale → 409)."""
    user = request.user
    material = access.get_material_or_404(user, pk)
    require(
        access.may_edit_material(user, material), "只有该资料所属党组织的书记、党务干部或专栏撰稿人可以修改。"
    )
    if material.state == MaterialState.WITHDRAWN:
        return _render_detail(request, material, message="已撤回的资料不能修改，请先恢复为草稿。", status=409)
    initial = {
        "title": material.title, "summary": material.summary, "source": material.source,
        "published_on": material.published_on, "audience_org": material.audience_org_id,
        "topics": list(material.topics.values_list("pk", flat=True)), "body": material.body,
        "version": material.version,
    }  # fmt: skip
    form = forms.MaterialForm(
        request.POST or None, request.FILES or None, initial=initial, material=material,
        audience_orgs=_subtree(material.org),
    )  # fmt: skip

    def save(d):
        kwargs = form.service_kwargs()
        kwargs.pop("upload", None)
        if not material.is_article:
            kwargs.pop("body", None)
        return services.material_update(actor=user, material=material, version=d["version"],
                                        upload=request.FILES.get("upload"), **kwargs)  # fmt: skip

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, f"学习资料“{result.title}”已保存。")
        return redirect("library:material_detail", pk=material.pk)
    return _material_form_page(request, form, heading=f"修改：{material.title}", material=material,
                               cancel_url=reverse("library:material_detail", args=[material.pk]), status=status)  # fmt: skip


@login_required
@require_POST
def material_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish, withdraw (ticked confirmation) or send back to draft."""
    user = request.user
    material = access.get_material_or_404(user, pk)
    require(
        access.may_edit_material(user, material),
        "只有该资料所属党组织的书记、党务干部或专栏撰稿人可以发布或撤回。",
    )
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, material, transition_form=form, status=422)
    action = form.cleaned_data["action"]
    try:
        services.material_transition(actor=user, material=material, action=action,
                                     version=form.cleaned_data["version"])  # fmt: skip
    except Conflict as exc:
        return _render_detail(
            request, material, transition_form=form, message=_conflict_message(exc), status=409
        )
    except ValidationError as exc:
        return _render_detail(
            request, material, transition_form=form, message="；".join(exc.messages), status=422
        )
    label = services.TRANSITIONS[action].label
    messages.success(request, f"学习资料“{material.title}”已{label}。")
    return redirect("library:material_detail", pk=material.pk)


@login_required
@require_GET
def material_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The material's file, for its audience (and its editors); 404 for anyone else."""
    material = access.get_material_or_404(request.user, pk)
    if material.file is None:
        raise Http404("该资料没有可下载的文件。")
    return files.file_response(request.user, material.file.uid, request=request)


# --- attachments ---------------------------------------------------------------------------------


def _target_or_404(user, kind: str, target_id: int) -> targets.Target:
    target = targets.get(kind, target_id, user)
    if target is None:
        raise Http404(targets.NOT_FOUND.get(kind, "未找到该对象，或您无权查看。"))
    return target


@login_required
@require_POST
def material_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Use this material on a study plan, study session or 党课 the user manages."""
    user = request.user
    material = access.get_material_or_404(user, pk)
    form = forms.AttachForm(request.POST)
    if not form.is_valid():
        form = forms.AttachForm(request.POST, choices=targets.recent_managed(user, access.managed_orgs(user)))
        form.is_valid()
        return _render_detail(request, material, attach_form=form, status=422)
    kind, target_id = form.cleaned_data["target"]
    target = _target_or_404(user, kind, target_id)
    require(manages_org(user, target.org), f"只有“{target.org.name}”的书记、党务干部可以为其添加学习资料。")
    try:
        services.attachment_add(actor=user, material=material, target=target)
    except ValidationError as exc:
        form = forms.AttachForm(request.POST, choices=targets.recent_managed(user, access.managed_orgs(user)))
        form.is_valid()
        return _render_detail(
            request, material, attach_form=form, message="；".join(exc.messages), status=422
        )
    messages.success(request, f"已把“{material.title}”添加到{target.kind_label}：{target.label}。")
    return redirect("library:material_detail", pk=material.pk)


@login_required
@require_http_methods(["GET", "POST"])
def attach_pick(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    """From a plan, session or 党课 page: search the library and add materials to it."""
    user = request.user
    if kind not in TargetKind.values:
        raise Http404("未找到该对象。")
    target = _target_or_404(user, kind, target_id)
    require(manages_org(user, target.org), f"只有“{target.org.name}”的书记、党务干部可以为其添加学习资料。")
    message, status = "", 200
    if request.method == "POST":
        form = forms.PickForm(request.POST)
        if form.is_valid():
            material = access.get_material_or_404(user, form.cleaned_data["material"])
            try:
                services.attachment_add(actor=user, material=material, target=target)
            except ValidationError as exc:
                message, status = "；".join(exc.messages), 422
            else:
                messages.success(request, f"已添加学习资料“{material.title}”。")
                return redirect(_safe_next(request, request.path))
        else:
            message, status = "请选择要添加的学习资料。", 422
    attached = set(
        Attachment.objects.filter(target_kind=kind, target_id=target_id).values_list("material_id", flat=True)
    )
    # Only materials whose audience includes the target's org: those attending must be able to open them.
    audience = Q(audience_org__isnull=True) | Q(audience_org_id__in=ancestor_ids(target.org.path))
    qs = Material.objects.visible_to(user).published().filter(audience)
    word = request.GET.get("q", "").strip()[:100]
    if word:
        through = Material.topics.through
        qs = qs.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(pk__in=through.objects.filter(topic__name__icontains=word).values("material_id"))
        )
    page = paginate(request, qs.for_list().order_by("-published_on", "-pk"), per_page=20)
    ctx = {"target": target, "page": page, "attached": attached, "q": word, "message": message}
    return render(request, "library/attach_pick.html", ctx, status=status)


@login_required
@require_POST
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a material off a plan, session or 党课 (managers of the target's org)."""
    attachment = access.get_attachment_or_404(request.user, pk)
    require(
        manages_org(request.user, attachment.org),
        "只有该学习活动所属党组织的书记、党务干部可以移除学习资料。",
    )
    title = attachment.material.title
    fallback = reverse("library:material_detail", args=[attachment.material_id])
    services.attachment_remove(actor=request.user, attachment=attachment)
    messages.success(request, f"已移除学习资料“{title}”。")
    return redirect(_safe_next(request, fallback))


# --- topics --------------------------------------------------------------------------------------


def _render_topics(request, *, form=None, message="", status=200):
    rows = list(Topic.objects.annotate(n=Count("materials")).order_by("order", "pk"))
    edit_forms = [
        (t, forms.TopicEditForm(initial={"name": t.name, "order": t.order, "is_active": t.is_active,
                                         "version": t.version}, auto_id=f"id_t{t.pk}_%s"))
        for t in rows
    ]  # fmt: skip
    ctx = {"rows": edit_forms, "form": form or forms.TopicForm(), "message": message}
    return render(request, "library/topics.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def topics(request: HttpRequest) -> HttpResponse:
    """The topic tags (the committee admin adds, renames, reorders and retires them)."""
    require(access.is_committee_admin(request.user), COMMITTEE_ONLY)
    form = forms.TopicForm(request.POST or None)
    topic, status = formflow.run(request, form, lambda d: services.topic_create(actor=request.user, **d))
    if topic is not None:
        messages.success(request, f"已添加主题“{topic.name}”。")
        return redirect("library:topics")
    return _render_topics(request, form=form, status=status)


@login_required
@require_POST
def topic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save one topic's name, order and whether it is in use."""
    require(access.is_committee_admin(request.user), COMMITTEE_ONLY)
    topic = Topic.objects.filter(pk=pk).first()
    if topic is None:
        raise Http404("未找到该主题。")
    form = forms.TopicEditForm(request.POST)
    if not form.is_valid():
        return _render_topics(
            request, message="；".join(e for errs in form.errors.values() for e in errs), status=422
        )
    try:
        services.topic_update(actor=request.user, topic=topic, **form.cleaned_data)
    except Conflict as exc:
        return _render_topics(request, message=_conflict_message(exc), status=409)
    except ValidationError as exc:
        return _render_topics(request, message="；".join(exc.messages), status=422)
    messages.success(request, f"主题“{topic.name}”已保存。")
    return redirect("library:topics")


# --- columns -------------------------------------------------------------------------------------


@login_required
@require_GET
def columns(request: HttpRequest) -> HttpResponse:
    """The in-house columns the user reads (their own orgs' and those in scope)."""
    user = request.user
    qs = (
        access.columns_visible_to(user)
        .select_related("org")
        .annotate(n=Count("articles", filter=Q(articles__state=MaterialState.PUBLISHED)))
        .order_by("org__path", "name", "pk")
    )
    page = paginate(request, qs)
    return render(
        request, "library/columns.html", {"page": page, "can_create": access.may_manage_anything(user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def column_create(request: HttpRequest) -> HttpResponse:
    """Start a column (a unit's 思政 brand) for an org the user manages."""
    user = request.user
    require(access.may_manage_anything(user), "您不是任何党组织的书记或党务干部，不能开设专栏。")
    form = forms.ColumnForm(request.POST or None, orgs=access.managed_orgs(user).order_by("path"))
    column, status = formflow.run(request, form, lambda d: services.column_create(actor=user, **d))
    if column is not None:
        messages.success(request, f"已开设专栏“{column.name}”。现在可以撰写第一篇文章。")
        return redirect("library:column_detail", pk=column.pk)
    return render(request, "library/column_form.html", {"form": form}, status=status)


def _render_column(request, column: Column, *, edit_form=None, editor_form=None, message="", status=200):
    user = request.user
    can_write = access.may_write_column(user, column)
    is_admin = access.is_committee_admin(user)
    articles = column.articles.filter(pk__in=Material.objects.visible_to(user).values("pk")).for_list()
    page = paginate(request, articles.order_by("-published_on", "-pk"), per_page=20)
    ctx = {
        "column": column,
        "page": page,
        "can_write": can_write and column.is_active,
        "can_manage": manages_org(user, column.org),
        "is_admin": is_admin,
        "editors": list(column.editors.order_by("username")) if (is_admin or can_write) else [],
        "edit_form": edit_form
        or forms.ColumnEditForm(initial={"name": column.name, "description": column.description,
                                         "is_active": column.is_active, "version": column.version}),
        "editor_form": editor_form or (forms.EditorForm() if is_admin else None),
        "message": message,
    }  # fmt: skip
    return render(request, "library/column_detail.html", ctx, status=status)


@login_required
@require_GET
def column_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A column: its articles (drafts too, for its authors), its authors and its settings."""
    return _render_column(request, access.get_column_or_404(request.user, pk))


@login_required
@require_POST
def column_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename, describe or pause the column (managers of its org)."""
    column = access.get_column_or_404(request.user, pk)
    require(manages_org(request.user, column.org), "只有主办组织的书记、党务干部可以修改专栏设置。")
    form = forms.ColumnEditForm(request.POST)
    if not form.is_valid():
        return _render_column(request, column, edit_form=form, status=422)
    try:
        services.column_update(actor=request.user, column=column, **form.cleaned_data)
    except Conflict as exc:
        return _render_column(request, column, edit_form=form, message=_conflict_message(exc), status=409)
    except ValidationError as exc:
        formflow.add_service_errors(form, exc)
        return _render_column(request, column, edit_form=form, status=422)
    messages.success(request, "专栏设置已保存。")
    return redirect("library:column_detail", pk=column.pk)


@login_required
@require_POST
def column_editor_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Name an author of the column (the committee admin only)."""
    column = access.get_column_or_404(request.user, pk)
    require(access.is_committee_admin(request.user), "只有机关工委管理员可以授权专栏撰稿人。")
    form = forms.EditorForm(request.POST)
    if form.is_valid():
        try:
            services.column_editor_add(actor=request.user, column=column, user=form.cleaned_data["user"])
        except ValidationError as exc:
            formflow.add_service_errors(form, exc)
        else:
            messages.success(request, f"已授权{form.cleaned_data['user']}为专栏撰稿人。")
            return redirect("library:column_detail", pk=column.pk)
    return _render_column(request, column, editor_form=form, status=422)


@login_required
@require_POST
def column_editor_remove(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """Take an author off the column (the committee admin only)."""
    column = access.get_column_or_404(request.user, pk)
    require(access.is_committee_admin(request.user), "只有机关工委管理员可以取消专栏撰稿人。")
    editor = column.editors.filter(pk=user_pk).first()
    if editor is None:
        raise Http404("该用户不是此专栏的撰稿人。")
    services.column_editor_remove(actor=request.user, column=column, user=editor)
    messages.success(request, f"已取消{editor}的专栏撰稿人授权。")
    return redirect("library:column_detail", pk=column.pk)


@login_required
@require_http_methods(["GET", "POST"])
def column_write(request: HttpRequest, pk: int) -> HttpResponse:
    """Write an article for the column (managers of its org and the named authors)."""
    user = request.user
    column = access.get_column_or_404(user, pk)
    require(
        access.may_write_column(user, column),
        "只有主办组织的书记、党务干部或授权的撰稿人可以在专栏发表文章。",
    )
    if not column.is_active:
        return _render_column(request, column, message="该专栏已停用，不能再发布文章；如需继续发布，请先在专栏设置中启用。",
                              status=409)  # fmt: skip
    form = forms.MaterialForm(request.POST or None, column=column, audience_orgs=_subtree(column.org))
    if request.method == "GET":
        form.initial["audience_org"] = column.org_id if column.org.depth != 0 else None

    def save(d):
        return services.material_create(actor=user, org=column.org, column=column, publish=form.publish,
                                        **form.service_kwargs())  # fmt: skip

    article, status = formflow.run(request, form, save)
    if article is not None:
        done = "已发布" if article.state == MaterialState.PUBLISHED else "已保存为草稿"
        messages.success(request, f"文章“{article.title}”{done}。")
        return redirect("library:material_detail", pk=article.pk)
    return _material_form_page(request, form, heading=f"{column.name} · 撰写文章", column=column,
                               cancel_url=reverse("library:column_detail", args=[column.pk]), status=status)  # fmt: skip
