"""The registry of searchable sources and the five built-in ones (people, orgs, duties, meetings,
library).

A source is a function ``(user, query, limit) -> list[Hit]`` that answers from its app's own
visibility rule (the same queryset the app's list and detail pages use, so a hit never links to a 404)
and matches only short T0 columns, or T1 columns that are shown masked nowhere here (a person's name).
Each source costs at most two queries whatever the data size: one for the hits (the scope rule goes
in as a subquery) and at most one cached scope helper.

What is never searched, and why, is in ``README.md``: talks, care cases, wellbeing screenings, survey
answers and analysis texts, and any 身份证号 or phone number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

MAX_QUERY = 50  # characters, after trimming
PER_SOURCE = 20  # hits shown per source; more → the module's own list


@dataclass(frozen=True)
class Hit:
    """One result: what it is, a title, one line of context, where it opens, and its date."""

    kind: str
    title: str
    subtitle: str
    url: str
    date: date | None = None


SearchFn = Callable[[Any, str, int], list[Hit]]
MoreFn = Callable[[Any, str], "str | None"]


@dataclass(frozen=True)
class Source:
    """A searchable module: ``fn`` finds, ``more`` gives the module's own filtered list (or None)."""

    kind: str
    label: str
    searches: str  # what is matched, in a sentence for the empty state and the API docs
    fn: SearchFn
    order: int = 100
    more: MoreFn | None = None


@dataclass
class Group:
    """One source's answer for the page and the API."""

    source: Source
    hits: list[Hit] = field(default_factory=list)
    has_more: bool = False
    more_url: str | None = None

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def label(self) -> str:
        return self.source.label

    @property
    def count(self) -> int:
        return len(self.hits)


SOURCES: dict[str, Source] = {}


def register(kind: str, label: str, *, searches: str, order: int = 100, more: MoreFn | None = None):
    """Decorator: add a source (idempotent per kind, so a re-import does not add it twice)."""

    def wrap(fn: SearchFn) -> SearchFn:
        SOURCES[kind] = Source(kind, label, searches, fn, order, more)
        return fn

    return wrap


def sources() -> list[Source]:
    return sorted(SOURCES.values(), key=lambda s: (s.order, s.kind))


def clean(raw: str | None) -> str:
    """The query as searched: whitespace (also the ideographic space) collapsed, trimmed."""
    return " ".join((raw or "").split())


def terms(query: str) -> list[str]:
    """The distinct words of the query; every one must match."""
    return list(dict.fromkeys(clean(query).split()))


def match_q(words: list[str], *fields: str) -> Q:
    """Each word in at least one of ``fields`` (case-insensitive substring; LIKE wildcards escaped)."""
    q = Q()
    for word in words:
        any_field = Q(pk__in=[])
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        q &= any_field
    return q


def search(user, query: str, limit: int = PER_SOURCE) -> list[Group]:
    """Every source's hits for ``query`` (already cleaned and at most ``MAX_QUERY`` long)."""
    query = clean(query)
    if not query or not user.is_authenticated:
        return []
    groups = []
    for src in sources():
        hits = src.fn(user, query, limit + 1)
        group = Group(src, hits[:limit], has_more=len(hits) > limit)
        group.more_url = src.more(user, query) if src.more else None
        groups.append(group)
    return groups


def _url(name: str, *args, **params) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(params)}" if params else url


def _join(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p)


# --- the built-in sources ---------------------------------------------------------------------------


def _people_more(user, query: str) -> str | None:
    from sizheng.org.access import can_list_people

    return _url("org:people", q=query) if can_list_people(user) else None


@register(
    "people",
    "人员",
    searches="姓名、单位、处室和所在党组织（不按身份证号、电话查找；查看范围同人员名册，没有名册权限的只能找到本人）",
    order=10,
    more=_people_more,
)
def search_people(user, query: str, limit: int) -> list[Hit]:
    """People on the roster in the user's scope (``visible_person_q``): name, unit, office, org only."""
    from sizheng.org.models import Person

    qs = (
        Person.objects.visible_to(user)
        .current()
        .filter(match_q(terms(query), "name", "unit__name", "unit__short_name", "office__name", "org__name"))
        .select_related("unit", "office", "org")
        .order_by("name", "pk")[:limit]
    )
    return [
        Hit(
            "people",
            p.name,
            _join(
                p.unit.short_name or p.unit.name,
                p.office.name if p.office else "",
                p.org.name if p.org else "",
            ),
            reverse("org:person_detail", args=[p.pk]),
        )
        for p in qs
    ]


@register(
    "orgs",
    "党组织",
    searches="党组织的名称和组织代码（您查看范围内的组织）",
    order=20,
    more=lambda user, query: _url("org:tree", q=query),
)
def search_orgs(user, query: str, limit: int) -> list[Hit]:
    """Orgs in scope (``visible_org_q``) by name or code."""
    from sizheng.org.models import Org

    qs = (
        Org.objects.visible_to(user)
        .filter(match_q(terms(query), "name", "code"))
        .distinct()
        .order_by("path")[:limit]
    )
    return [
        Hit(
            "orgs",
            o.name,
            _join(o.get_kind_display(), o.code, "已撤销" if o.dissolved_on else ""),
            reverse("org:org_detail", args=[o.pk]),
            o.dissolved_on,
        )
        for o in qs
    ]


@register(
    "duties",
    "责任事项",
    searches="事项名称和具体要求（由谈心谈话、关心关爱等产生的事项只按其通用名称查找）",
    order=30,
    more=lambda user, query: _url("duties:board", q=query),
)
def search_duties(user, query: str, limit: int) -> list[Hit]:
    """Duties in scope (``Duty.objects.visible_to``): title always, description only when not sensitive."""
    from sizheng.duties.models import Duty

    q = Q()
    for word in terms(query):
        q &= Q(title__icontains=word) | Q(is_sensitive=False, description__icontains=word)
    qs = (
        Duty.objects.visible_to(user)
        .filter(q)
        .select_related("assignee_org")
        .order_by("-due_on", "-pk")[:limit]
    )
    return [
        Hit(
            "duties",
            d.title,
            _join(d.assignee_org.name, d.get_state_display(), f"完成时限 {d.due_on:%Y-%m-%d}"),
            reverse("duties:detail", args=[d.pk]),
            d.due_on,
        )
        for d in qs
    ]


@register(
    "meetings",
    "会议",
    searches="会议主题（不查会议记录、决议和请假事由）",
    order=40,
    more=lambda user, query: _url("life:meetings", q=query),
)
def search_meetings(user, query: str, limit: int) -> list[Hit]:
    """Meetings of orgs in scope (``Meeting.objects.visible_to``) by topic only."""
    from sizheng.life.models import Meeting

    qs = (
        Meeting.objects.visible_to(user)
        .filter(match_q(terms(query), "topic"))
        .select_related("org")
        .order_by("-starts_at", "-pk")[:limit]
    )
    hits = []
    for m in qs:
        day = timezone.localtime(m.starts_at).date()
        hits.append(
            Hit(
                "meetings",
                m.topic,
                _join(m.get_kind_display(), m.org.name, f"{day:%Y-%m-%d}", m.get_state_display()),
                reverse("life:meeting_detail", args=[m.pk]),
                day,
            )
        )
    return hits


@register(
    "library",
    "学习资料",
    searches="学习资料和专栏文章的标题、内容简介（您可以阅览的资料）",
    order=50,
    more=lambda user, query: _url("library:materials", q=query),
)
def search_library(user, query: str, limit: int) -> list[Hit]:
    """Materials the user may read or edit (``Material.objects.visible_to``) by title or summary."""
    from sizheng.library.models import Material, MaterialState

    qs = (
        Material.objects.visible_to(user)
        .filter(match_q(terms(query), "title", "summary"))
        .select_related("org")
        .order_by("-published_on", "-pk")[:limit]
    )
    return [
        Hit(
            "library",
            m.title,
            _join(
                m.get_kind_display(),
                m.org.name,
                "" if m.state == MaterialState.PUBLISHED else m.get_state_display(),
            ),
            reverse("library:material_detail", args=[m.pk]),
            m.published_on,
        )
        for m in qs
    ]
