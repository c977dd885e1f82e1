"""Screens of the dashboard: the four role pages (card shells only), one card (htmx partial, or a
page of its own with ``?full=1`` for browsers without JavaScript), and the gap → duty action.

A role page runs no metric query: each card loads on its own (``hx-trigger="load"``), so a slow or
failing card shows its own message and never holds up the others.
"""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from sizheng.core.metrics import Suppressed
from sizheng.core.models import Role
from sizheng.core.rules import Period
from sizheng.dashboard import cards
from sizheng.dashboard.metrics import ttl, values
from sizheng.org.access import get_org_or_404, require, scope_of

logger = logging.getLogger(__name__)

PAGE_TITLES = {"all": "机关工委驾驶舱", "org": "党组织驾驶舱", "unit": "单位驾驶舱", "me": "我的驾驶舱"}
NO_DISPATCH = "只有机关工委或上级党组织的书记、党务干部可以为该组织派发整改事项。"
BAD_GAP = "无法识别要整改的指标或期间，请回到驾驶舱重新点击“派发整改事项”。"


def _switch_links(user, current: str) -> list[dict]:
    """The dashboards this user has, for the switcher (one query for the org / unit names)."""
    from sizheng.org.models import Org, Unit

    s = scope_of(user)
    links = []
    if s.has_everything(Role.COMMITTEE_ADMIN):
        links.append({"scope": "all", "label": "机关工委", "url": reverse("dashboard:index")})
    org_ids = sorted({pk for r in (Role.SECRETARY, Role.ORG_ADMIN) for pk in s.org_ids.get(r, [])})
    if org_ids:
        for pk, name in Org.objects.filter(pk__in=org_ids).order_by("path").values_list("pk", "name"):
            links.append({"scope": f"org:{pk}", "label": name, "url": reverse("dashboard:org", args=[pk])})
    unit_ids = sorted(set(s.unit_ids.get(Role.LEADER, [])))
    if unit_ids:
        for pk, name in Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"):
            links.append({"scope": f"unit:{pk}", "label": name, "url": reverse("dashboard:unit", args=[pk])})
    links.append({"scope": "me", "label": "我的", "url": reverse("dashboard:me")})
    for link in links:
        link["current"] = link["scope"] == current
    return links if len(links) > 1 else []


def _page(request: HttpRequest, ctx: cards.Ctx) -> HttpResponse:
    """A role page: its header and one shell per card (no metric query here)."""
    display = request.GET.get("display") == "1"
    base_query = f"scope={ctx.scope_param}&year={ctx.year}"
    shells = [
        {
            "card": c,
            "url": f"{reverse('dashboard:card', args=[c.name])}?{base_query}",
            "full_url": f"{reverse('dashboard:card', args=[c.name])}?{base_query}&full=1",
        }
        for c in cards.cards_for(ctx.kind)
    ]
    if ctx.kind == "org":
        subject = ctx.org.name
    elif ctx.kind == "unit":
        subject = ctx.unit.name
    elif ctx.kind == "me":
        subject = str(request.user)
    else:
        subject = "全部党组织"
    here = request.path
    return render(
        request,
        "dashboard/page.html",
        {
            "ctx": ctx,
            "title": PAGE_TITLES[ctx.kind],
            "subject": subject,
            "shells": shells,
            "display": display,
            "display_url": f"{here}?year={ctx.year}&display=1",
            "normal_url": f"{here}?year={ctx.year}",
            "years": list(range(ctx.today.year, ctx.today.year - cards.YEARS_BACK - 1, -1)),
            "switch": _switch_links(request.user, ctx.scope_param),
            "refresh_seconds": 300,
            "cache_minutes": max(1, ttl() // 60),
            "no_person": ctx.kind == "me" and not ctx.person_id,
        },
    )


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """/dashboard/: the committee's page for the committee admin (every org); anyone else is sent to
    their own page (their branch, their unit, or their own records)."""
    scope = cards.default_scope(request.user)
    kind, _, pk = scope.partition(":")
    if kind == "all":
        return _page(request, cards.context_for(request.user, "all", year=request.GET.get("year")))
    if kind == "org":
        url = reverse("dashboard:org", args=[int(pk)])
    elif kind == "unit":
        url = reverse("dashboard:unit", args=[int(pk)])
    else:
        url = reverse("dashboard:me")
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@login_required
@require_GET
def org_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A branch's page: its gaps, to-dos and its subtree's compliance (its managers only)."""
    return _page(request, cards.context_for(request.user, f"org:{pk}", year=request.GET.get("year")))


@login_required
@require_GET
def unit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A leader's page: aggregates for their unit, never lists of people."""
    return _page(request, cards.context_for(request.user, f"unit:{pk}", year=request.GET.get("year")))


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """My page: my duties, meetings, study hours and requests (T0 of myself only)."""
    return _page(request, cards.context_for(request.user, "me", year=request.GET.get("year")))


@login_required
@require_GET
def card(request: HttpRequest, name: str) -> HttpResponse:
    """One card for a scope: the partial for htmx, or a page of its own with ``?full=1``."""
    c = cards.CARDS.get(name)
    if c is None:
        raise Http404("没有这张卡片。")
    full = request.GET.get("full") == "1"
    ctx = cards.context_for(
        request.user, request.GET.get("scope", ""), year=request.GET.get("year"), full=full
    )
    if ctx.kind not in c.scopes:
        raise Http404("该页面没有这张卡片。")
    error = ""
    data: dict = {}
    link = ""
    try:
        data = c.build(ctx)
        link = c.link(ctx)
    except Http404:
        raise
    except Exception:  # a failing card shows its own message; the others still load
        logger.exception("驾驶舱卡片 %s 加载失败（范围 %s）", name, ctx.scope_param)
        error = f"“{c.title}”暂时无法加载。请稍后刷新页面；如果一直如此，请联系系统管理员。"
    page_query = f"scope={ctx.scope_param}&year={ctx.year}"
    context = {
        "c": c,
        "ctx": ctx,
        "data": data,
        "link": link,
        "error": error,
        "full": full,
        "island": f"sz-dash-data-{c.name}",
        # The chart's data island: an attribute, not a <script> (htmx inserts no script elements).
        "chart_json": json.dumps(data["chart"], ensure_ascii=False) if c.chart and data.get("chart") else "",
        "full_url": f"{reverse('dashboard:card', args=[c.name])}?{page_query}&full=1",
        "back_url": _page_url(ctx),
    }
    template = "dashboard/card_page.html" if full else "dashboard/card.html"
    return render(request, template, context)


def _page_url(ctx: cards.Ctx) -> str:
    if ctx.kind == "org":
        url = reverse("dashboard:org", args=[ctx.org.pk])
    elif ctx.kind == "unit":
        url = reverse("dashboard:unit", args=[ctx.unit.pk])
    elif ctx.kind == "me":
        url = reverse("dashboard:me")
    else:
        url = reverse("dashboard:index")
    return f"{url}?year={ctx.year}"


def _bad_gap(request: HttpRequest, message: str, back: str) -> HttpResponse:
    return render(request, "dashboard/gap_error.html", {"message": message, "back": back}, status=422)


@login_required
@require_POST
def gap_duty(request: HttpRequest) -> HttpResponse:
    """派发整改事项: open a duty for a gap (metric, org, period), once; then back to the page."""
    user = request.user
    raw_org = request.POST.get("org", "")
    if not raw_org.isdigit():
        raise Http404("未找到该党组织，或您无权查看。")
    org = get_org_or_404(user, int(raw_org))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("dashboard:org", args=[org.pk])
    metric = request.POST.get("metric", "")
    rule = cards.gap_rule(metric)
    try:
        period = Period.parse(request.POST.get("period", ""))
    except ValueError:
        period = None
    if rule is None or period is None or period.kind != rule.m.period_kind:
        return _bad_gap(request, BAD_GAP, back)
    require(cards.may_dispatch(user, org), NO_DISPATCH)
    tag = cards.gap_tag(metric, period.key)
    existing = cards.existing_gap_duties([org.pk]).get((org.pk, tag))
    if existing is None:
        value = values(metric, [org.pk], period).get(org.pk)
        if not rule.is_gap(value):
            text = "暂无数据" if isinstance(value, Suppressed) else cards.show(value, metric)["text"]
            messages.info(
                request,
                f"{org.name}{period.label}的{rule.m.label}为{text}，没有低于要求（{rule.requirement()}），无需派发整改事项。",
            )
            return redirect(back)
        result = cards.open_gap_duty(actor=user, org=org, metric=metric, period=period, value=value)
        duty = result.duty
        created = result.created
    else:
        from sizheng.duties.models import Duty

        duty = Duty.objects.get(pk=existing)
        created = False
    url = reverse("duties:detail", args=[duty.pk])
    if created:
        messages.success(
            request,
            format_html(
                '已向{}派发整改事项“{}”，完成时限为{}。<a href="{}">查看整改事项</a>',
                org.name,
                duty.title,
                f"{duty.due_on.year}年{duty.due_on.month}月{duty.due_on.day}日",
                url,
            ),
        )
    else:
        messages.info(
            request,
            format_html(
                '{}的“{}”已经派发过整改事项，无需重复派发，请在事项页面跟进。<a href="{}">查看整改事项</a>',
                org.name,
                duty.title,
                url,
            ),
        )
    return redirect(back)
