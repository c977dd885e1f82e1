"""Screens of the org app: the tree, the org page, people, transfers, 换届, accounts and role grants.

Each view checks access (``org.access``: 404 outside scope, 403 read-only), validates a form,
calls one service and renders. Forms that fail re-render with 422; a stale ``version`` with 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core import services as core_services
from sizheng.core.access import role_required
from sizheng.core.apitools import Conflict
from sizheng.core.crypto import mask
from sizheng.core.models import SYSTEM_ROLES, Role, RoleGrant, User
from sizheng.core.paging import paginate
from sizheng.core.workdays import add_months
from sizheng.org import access, forms, pickers, services
from sizheng.org.models import Org, OrgRole, Person, Unit

ORG_CONFLICT = "该党组织已被他人修改，请刷新页面后重新填写。"
PERSON_CONFLICT = "该人员信息已被他人修改，请刷新页面后重新填写。"
TITLE_ORDER = {title: i for i, title in enumerate(OrgRole.Title.values)}


def term_state(org: Org, today: date) -> str:
    """'overdue' past the term end, 'soon' within six months of it (BR-TERM-3), else ''."""
    if org.term_ends_on is None or org.dissolved_on:
        return ""
    if org.term_ends_on < today:
        return "overdue"
    return "soon" if org.term_ends_on <= add_months(today, 6) else ""


# --- the tree --------------------------------------------------------------------------------


@dataclass
class Node:
    """One org of the tree with its member counts."""

    org: Org
    direct: int = 0
    total: int = 0
    term: str = ""
    children: list[Node] = field(default_factory=list)


def _path_ids(org: Org) -> list[int]:
    return [int(part) for part in org.path.split(".") if part]


def build_tree(orgs: list[Org], counts: dict[int, int], today: date) -> tuple[list[Node], dict[int, Node]]:
    """The visible forest: roots are orgs whose parent is out of scope; totals summed up the path."""
    nodes = {o.pk: Node(o, direct=counts.get(o.pk, 0), term=term_state(o, today)) for o in orgs}
    roots = []
    for node in nodes.values():
        for pk in _path_ids(node.org):
            if pk in nodes:
                nodes[pk].total += node.direct
        parent = nodes.get(node.org.parent_id)
        (parent.children if parent else roots).append(node)
    return roots, nodes


def flatten_tree(roots: list[Node], keep: set[int] | None, open_all: bool) -> list[dict]:
    """Rows in display order; ``closes`` says how many open <details> end after the row."""
    rows: list[dict] = []

    def walk(node: Node, depth: int) -> None:
        kids = [c for c in node.children if keep is None or c.org.pk in keep]
        rows.append({"node": node, "has_children": bool(kids), "open": open_all or depth == 0, "closes": 0})
        for kid in kids:
            walk(kid, depth + 1)
        if kids:
            rows[-1]["closes"] += 1

    for root in roots:
        if keep is None or root.org.pk in keep:
            walk(root, 0)
    for row in rows:
        row["closes"] = range(row["closes"])
    return rows


def search_tree(nodes: dict[int, Node], q: str) -> set[int]:
    """Orgs whose name or code contains ``q``, with their visible ancestors."""
    needle = q.casefold()
    keep: set[int] = set()
    for node in nodes.values():
        if needle in node.org.name.casefold() or needle in node.org.code.casefold():
            keep.update(pk for pk in _path_ids(node.org) if pk in nodes)
    return keep


@login_required
@require_GET
def tree(request: HttpRequest) -> HttpResponse:
    """The org tree of the user's scope, with counts, terms and a search."""
    user, today = request.user, timezone.localdate()
    visible = Org.objects.visible_to(user)
    orgs = list(visible.distinct().order_by("path"))
    counts = dict(
        Person.objects.current().filter(org__in=visible.values("pk")).order_by()
        .values_list("org_id").annotate(n=Count("pk"))
    )  # fmt: skip
    roots, nodes = build_tree(orgs, counts, today)
    q = request.GET.get("q", "").strip()[:50]
    keep = search_tree(nodes, q) if q else None
    people = (
        Person.objects.visible_to(user).current().count() if access.can_list_people(user)
        else sum(r.total for r in roots)
    )  # fmt: skip
    summary = {
        "units": Unit.objects.filter(orgs__in=visible.values("pk")).distinct().count(),
        "orgs": sum(1 for o in orgs if o.is_active_on(today)),
        "people": people,
        "people_label": "人员" if access.can_list_people(user) else "在册党员",
        "due": sum(1 for n in nodes.values() if n.term),
    }
    ctx = {"rows": flatten_tree(roots, keep, open_all=bool(q)), "q": q, "summary": summary,
           "can_list_people": access.can_list_people(user)}  # fmt: skip
    return render(request, "org/tree.html", ctx)


# --- the org page ----------------------------------------------------------------------------


@login_required
@require_GET
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An org: its record, posts now and before, child orgs, counts; actions for its managers."""
    user, today = request.user, timezone.localdate()
    org = access.get_org_or_404(user, pk)
    posts = list(OrgRole.objects.filter(org=org).select_related("person").order_by("-starts_on"))
    posts.sort(key=lambda p: TITLE_ORDER.get(p.title, 99))  # 书记 first, as the enum lists the posts
    current = [p for p in posts if p.starts_on <= today and (p.ends_on is None or p.ends_on >= today)]
    upcoming = [p for p in posts if p.starts_on > today]
    past = sorted((p for p in posts if p.ends_on is not None and p.ends_on < today), key=lambda p: p.ends_on,
                  reverse=True)  # fmt: skip
    members = Person.objects.current().filter(org__path__startswith=org.path)
    ctx = {
        "org": org,
        "units": list(org.units.all()),
        "parent_visible": bool(org.parent_id)
        and Org.objects.visible_to(user).filter(pk=org.parent_id).exists(),
        "children": list(Org.objects.visible_to(user).filter(parent=org).distinct()),
        "current": current,
        "upcoming": upcoming,
        "past": past,
        "direct_count": members.filter(org=org).count(),
        "total_count": members.count(),
        "term": term_state(org, today),
        "manages": access.manages_org(user, org),
        "can_list_people": access.can_list_people(user),
        "can_add_child": bool(forms.CHILD_KINDS.get(org.kind)),
    }
    return render(request, "org/org_detail.html", ctx)


def _managed_org(request: HttpRequest, pk: int) -> Org:
    """The org (404 outside scope) if the user manages it (403 otherwise)."""
    org = access.get_org_or_404(request.user, pk)
    access.require(access.manages_org(request.user, org), "您可以查看该党组织，但没有修改它的权限。")
    return org


def _save_versioned(request, form, obj, conflict_message: str, save) -> int | None:
    """Run a form that carries ``version`` through ``save(version)``: None on success, else the
    status to re-render with (422 bad input; 409 when the object changed since the form was filled in —
    checked here and again by the service's compare-and-swap)."""

    def checked(data):
        if data["version"] != obj.version:
            raise Conflict(conflict_message)
        return save(data["version"]) or True

    done, status = formflow.run(request, form, checked)
    return None if done else status


@login_required
@require_http_methods(["GET", "POST"])
def org_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an org's record; a stale form answers 409 with the form kept."""
    org = _managed_org(request, pk)
    form = forms.OrgForm(request.POST or None, user=request.user, org=org)
    status = 200
    if request.method == "POST":
        status = _save_versioned(request, form, org, ORG_CONFLICT, lambda version: services.org_update(
            actor=request.user, org=org, version=version, **form.changes()))  # fmt: skip
        if status is None:
            messages.success(request, "党组织信息已保存。")
            return redirect("org:org_detail", pk=org.pk)
    return render(
        request, "org/org_form.html", {"form": form, "org": org, "parent": org.parent}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a child org under an org the user manages."""
    parent = _managed_org(request, pk)
    if not forms.CHILD_KINDS.get(parent.kind):
        ctx = {"title": "不能设立下级组织", "message": f"{parent.get_kind_display()}下不能再设立下级党组织。",
               "back": reverse("org:org_detail", args=[parent.pk])}  # fmt: skip
        return render(request, "org/message.html", ctx, status=409)
    form = forms.OrgCreateForm(request.POST or None, user=request.user, parent=parent)
    org, status = formflow.run(request, form, lambda d: services.org_create(
        actor=request.user, parent=parent, kind=d["kind"], code=d["code"], **form.changes()))  # fmt: skip
    if org is not None:
        messages.success(request, f"已设立{org.full_name}。")
        return redirect("org:org_detail", pk=org.pk)
    return render(
        request, "org/org_form.html", {"form": form, "parent": parent, "creating": True}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_role_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """任命: appoint a person of the org's subtree to a post."""
    org = _managed_org(request, pk)
    form = forms.PostAssignForm(request.POST or None, user=request.user, org=org)
    post, status = formflow.run(request, form, lambda d: services.org_role_assign(
        actor=request.user, org=org, person=d["person"], title=d["title"], starts_on=d["starts_on"],
        ends_on=d["ends_on"]))  # fmt: skip
    if post is not None:
        messages.success(request, f"已任命{post.person.name}为{post.get_title_display()}。")
        return redirect("org:org_detail", pk=org.pk)
    return render(request, "org/org_role_assign.html", {"form": form, "org": org}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def org_role_end(request: HttpRequest, pk: int, post_pk: int) -> HttpResponse:
    """离任: confirm, then end a post (the role it granted ends the same day)."""
    org = _managed_org(request, pk)
    post = OrgRole.objects.filter(org=org, pk=post_pk).select_related("person").first()
    if post is None:
        raise Http404("未找到该职务记录。")
    form = forms.PostEndForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.org_role_end(actor=request.user, post=post, on=form.cleaned_data["on"])
                messages.success(request, f"{post.person.name}的{post.get_title_display()}职务已办理离任。")
                return redirect("org:org_detail", pk=org.pk)
            except ValidationError as exc:
                form.add_error("on", exc.messages)
    return render(request, "org/org_role_end.html", {"form": form, "org": org, "post": post}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def org_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """换届: the new committee takes office; the old one's access ends the day before."""
    org = _managed_org(request, pk)
    form = forms.HandoverForm(request.POST or None, user=request.user, org=org)
    posts, status = formflow.run(request, form, lambda d: services.org_handover(
        actor=request.user, org=org, on=d["on"], term_ends_on=d["term_ends_on"], posts=d["posts"]))  # fmt: skip
    if posts is not None:
        on = form.cleaned_data["on"]
        messages.success(request, f"换届已完成：新一届 {len(posts)} 名委员自 {on:%Y年%m月%d日} 起任职。")
        return redirect("org:org_detail", pk=org.pk)
    current = (
        OrgRole.objects.filter(org=org).exclude(ends_on__lt=timezone.localdate()).select_related("person")
    )
    return render(
        request, "org/org_handover.html", {"form": form, "org": org, "current": current}, status=status
    )


# --- people ----------------------------------------------------------------------------------


def _people_or_404(user) -> None:
    """Only the committee admin, secretaries and org admins have people lists (leaders: aggregates)."""
    if not access.can_list_people(user):
        raise Http404("页面不存在。")


@login_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    """The people list: search, filters, sort, pagination; identifiers never shown here."""
    _people_or_404(request.user)
    form = forms.PeopleFilterForm(request.GET or None, user=request.user)
    qs = form.filter(Person.objects.visible_to(request.user).current().for_list())
    # Links (pages, export) carry each picker as its pk (?unit=5), not the text typed without
    # JavaScript, and never the page number.
    page = paginate(request, qs, params=pickers.canonical_params(form, request.GET))
    from sizheng.org.importer import may_import

    ctx = {
        "form": form,
        "page": page,
        "people_export_url": f"{reverse('org:people_export')}?{page.querystring}",
        "may_import": may_import(request.user),
        "may_create_accounts": forms.may_create_accounts(request.user),
        "may_add": access.manages_any(request.user),
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "org/people.html", ctx, status=status)


@login_required
@require_GET
def pick(request: HttpRequest, kind: str) -> HttpResponse:
    """Suggestions of a picker (``org.pickers``): at most 20 objects of the scope matching ``q``.

    404 for an unknown kind or scope and for a user the scope is not for (no people list, no orgs
    beyond their own branch). Rendered without the page context: one query after the scope.
    """
    scope = pickers.scope_for(kind, request.GET.get("scope", ""))
    if scope is None or not scope.allowed(request.user):
        raise Http404("页面不存在。")
    text = pickers.query_text(request.GET)
    kind_ = pickers.KINDS[scope.kind]
    matches, more = (
        pickers.search(scope.objects(request.user, request.GET), kind_, text) if text else ([], False)
    )
    target = request.headers.get("HX-Target", "")
    # The listbox holds options only; what was found is said beside it: a visible note when there
    # is something to add, and the picker's status line (role=status) for screen readers.
    if not matches:
        note = status = f"没有找到名称包含“{text}”的{kind_.noun}，请换个说法再试。"
    elif more:
        note = f"只显示前 {pickers.LIMIT} 个，请输入更完整的名称。"
        status = f"找到 {pickers.LIMIT} 个以上，只显示前 {pickers.LIMIT} 个，用上下方向键选择，或输入更完整的名称。"
    else:
        note, status = "", f"找到 {len(matches)} 个，用上下方向键选择。"
    ctx = {
        "options": [{"pk": obj.pk, "label": kind_.label(obj)} for obj in matches],
        "note": note,
        "status": status,
        "prefix": target if target.replace("_", "").replace("-", "").isalnum() else f"sz-pick-{kind}",
    }
    html = render_to_string("org/_picker_options.html", ctx) if text else ""
    return HttpResponse(html)


def _birthday(joined_on: date | None, today: date) -> date | None:
    """The next 政治生日: the anniversary of the 入党日期 (rules.md §7), not of 转正."""
    if joined_on is None:
        return None
    for year in (today.year, today.year + 1):
        try:
            day = joined_on.replace(year=year)
        except ValueError:  # joined on 29 February
            day = date(year, 3, 1)
        if day >= today:
            return day
    return None


def _full_years(since: date | None, today: date) -> int | None:
    if since is None:
        return None
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


@login_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's roster record with identifiers masked; an org admin may reveal them (audited)."""
    user, today = request.user, timezone.localdate()
    person = access.get_person_or_404(user, pk)
    sees = access.sees_identifiers(user, person)
    revealed = sees and request.GET.get("reveal") == "1"
    if revealed:
        audit.record_read(user, person, ["id_number", "phone"], request=request)
    ctx = {
        "person": person,
        "id_number": person.id_number if revealed else mask(person.id_number, "id_card"),
        "phone": person.phone if revealed else mask(person.phone, "phone"),
        "sees_identifiers": sees,
        "revealed": revealed,
        "age": person.age_on(today),
        "birthday": _birthday(person.joined_on, today),
        "party_years": _full_years(person.confirmed_on, today),
        "posts": list(person.org_roles.select_related("org").order_by("-starts_on")),
        "moves": list(
            person.moves.select_related(
                "from_unit", "to_unit", "from_office", "to_office", "from_org", "to_org"
            )
        ),  # fmt: skip
        "manages": access.manages_person(user, person),
        "today": today,
    }
    return render(request, "org/person_detail.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    """Add a person to the roster, in a unit and org the user manages."""
    _people_or_404(request.user)
    access.require(forms.managed_orgs(request.user).exists(), "您没有新增人员的权限。")
    form = forms.PersonCreateForm(request.POST or None, user=request.user)
    person, status = formflow.run(
        request, form, lambda d: services.person_create(actor=request.user, **form.fields_for_service())
    )
    if person is not None:
        messages.success(request, f"已将{person.name}加入人员名册。")
        return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_form.html", {"form": form, "creating": True}, status=status)


def _managed_person(request: HttpRequest, pk: int) -> Person:
    """The person (404 outside scope) if the user manages them (403 otherwise)."""
    person = access.get_person_or_404(request.user, pk)
    access.require(access.manages_person(request.user, person), "您可以查看该人员，但没有修改其信息的权限。")
    return person


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a person's roster fields; 409 when someone else saved first."""
    person = _managed_person(request, pk)
    form = forms.PersonEditForm(request.POST or None, person=person)
    status = 200
    if request.method == "POST":
        status = _save_versioned(request, form, person, PERSON_CONFLICT, lambda version: services.person_update(
            actor=request.user, person=person, version=version, **form.changes()))  # fmt: skip
        if status is None:
            messages.success(request, "人员信息已保存。")
            return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_form.html", {"form": form, "person": person}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def person_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """调动: move a person to another unit, office or org, keeping the history."""
    person = _managed_person(request, pk)
    form = forms.TransferForm(request.POST or None, user=request.user, person=person)
    move, status = formflow.run(request, form, lambda d: services.person_transfer(
        actor=request.user, person=person, on=d["on"], unit=d["unit"], office=d["office"], org=d["org"],
        reason=d["reason"], version=d["version"]))  # fmt: skip
    if move is not None:
        messages.success(request, f"{person.name}的调动已登记。")
        return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_transfer.html", {"form": form, "person": person}, status=status)


# --- accounts --------------------------------------------------------------------------------


def _account_candidates(user, ids: list[int]) -> list[Person]:
    """Selected people without an account whom the user may open one for (org admins: their scope)."""
    qs = Person.objects.visible_to(user).current().filter(pk__in=ids, user__isnull=True).for_list()
    people = list(qs.order_by("unit__order", "unit_id", "name"))
    if access.scope_of(user).has_everything(Role.COMMITTEE_ADMIN):
        return people
    return [p for p in people if access.sees_identifiers(user, p)]


@login_required
@require_POST
def accounts_create(request: HttpRequest) -> HttpResponse:
    """Bulk accounts: the list's selection → a confirmation page → the one-time result page."""
    _people_or_404(request.user)
    access.require(forms.may_create_accounts(request.user), "只有党务干部和机关工委可以开通账号。")
    ids = [int(i) for i in request.POST.getlist("person") if i.isdigit()]
    people = _account_candidates(request.user, ids)
    if not people:
        ctx = {"title": "没有可开通账号的人员",
               "message": "所选人员都已有账号，或不在您的管理范围内。请回到人员列表，勾选尚未开通账号的人员后再试。",
               "back": reverse("org:people")}  # fmt: skip
        return render(request, "org/message.html", ctx, status=422)
    if request.POST.get("confirm") != "1":
        skipped = len(set(ids)) - len(people)
        return render(request, "org/accounts_confirm.html", {"people": people, "skipped": skipped})
    created = services.accounts_create(actor=request.user, people=people)
    # Shown once and never stored: the page is not cached (no-store) and the passwords are not kept.
    return render(request, "org/accounts_result.html", {"created": created})


# --- role grants (secadmin) ------------------------------------------------------------------


def _describe_scopes(grants: list[RoleGrant]) -> None:
    """Set each grant's ``scope_text`` (two queries for the whole page)."""
    org_ids = {g.scope_id for g in grants if g.scope_kind == RoleGrant.ScopeKind.ORG}
    unit_ids = {g.scope_id for g in grants if g.scope_kind == RoleGrant.ScopeKind.UNIT}
    orgs = Org.objects.in_bulk(org_ids) if org_ids else {}
    units = Unit.objects.in_bulk(unit_ids) if unit_ids else {}
    for g in grants:
        if g.scope_kind == RoleGrant.ScopeKind.ORG:
            name = orgs[g.scope_id].name if g.scope_id in orgs else f"党组织 {g.scope_id}"
            g.scope_text = f"{name}及其下级" + ("（备岗）" if g.is_backup else "")
        elif g.scope_kind == RoleGrant.ScopeKind.UNIT:
            g.scope_text = units[g.scope_id].name if g.scope_id in units else f"单位 {g.scope_id}"
        else:
            g.scope_text = g.get_scope_kind_display()


def _user_search(q: str) -> list[User]:
    if not q:
        return []
    match = Q(username__icontains=q) | Q(display_name__icontains=q) | Q(person__name__icontains=q)
    return list(User.objects.filter(match, is_active=True).select_related("person").order_by("username")[:20])


@role_required(Role.SECADMIN)
@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest) -> HttpResponse:
    """Grant the non-roster roles (leader, assessor, expert, counselor, union) and list manual grants."""
    form = forms.GrantForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            kwargs = form.grant_kwargs()
            grant = core_services.role_grant(actor=request.user, **kwargs)
            messages.success(request, f"已为 {grant.user.username} 授予{grant.get_role_display()}角色。")
            return redirect("org:grants")
    q = request.GET.get("q", "").strip()[:50]
    qs = (
        RoleGrant.objects.in_force().filter(source="manual").exclude(role__in=SYSTEM_ROLES)
        .select_related("user").order_by("role", "user__username", "pk")
    )  # fmt: skip
    page = paginate(request, qs)
    page.object_list = list(page.object_list)
    _describe_scopes(page.object_list)
    ctx = {"form": form, "page": page, "q": q, "found": _user_search(q),
           "grantable": [(Role(r).label, text) for r, text in forms.GRANTABLE.items()]}  # fmt: skip
    return render(request, "org/grants.html", ctx, status=status)


@role_required(Role.SECADMIN)
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a manual grant (from yesterday, so it no longer applies today); the page confirms first."""
    grant = (
        RoleGrant.objects.in_force().filter(pk=pk, source="manual").exclude(role__in=SYSTEM_ROLES)
        .select_related("user").first()
    )  # fmt: skip
    if grant is None:
        raise Http404("未找到该授权，或它已被撤销。")
    core_services.role_revoke(grant=grant, actor=request.user)
    messages.success(request, f"已撤销 {grant.user.username} 的{grant.get_role_display()}角色。")
    return redirect("org:grants")
