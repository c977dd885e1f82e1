"""Search-as-you-type pickers for an org, a unit or an office (and any kind another app registers).

A select listing every org of the tree grows with the tree (1,531 orgs at demo scale 10). A picker
renders a text input ``<name>_q`` and a hidden input ``<name>`` holding the pk, and nothing else:

- with JavaScript, htmx asks ``/org/pick/<kind>/?scope=…&q=…`` for at most :data:`LIMIT` matches
  and ``core/picker.js`` puts the chosen pk in the hidden input;
- without JavaScript, the user types part of a name and submits: :meth:`PickerField.clean`
  resolves the text inside the same scope (one match, or one exact name among several).

The URL parameter stays the pk (``?org=123``), so every existing link keeps working. A scope is
named and registered once (:func:`register_scope`); the form field and the endpoint both read it,
so the endpoint never offers what the form would refuse. Resolving a pk costs one query, an empty
picker none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Model, Q, QuerySet, Subquery, Value, When
from django.http import QueryDict
from django.urls import reverse

from sizheng.core.models import Role
from sizheng.org import access
from sizheng.org.models import Office, Org, Person, Unit

LIMIT = 20  # suggestions shown, and matches fetched when resolving typed text
MAX_TEXT = 100
_SPLIT = re.compile(r"[\s·・/（）()]+")
_LABELLED = re.compile(r"^(?P<name>.+?)（(?P<code>[^（）]+)）$")


def terms_of(text: str) -> list[str]:
    """The words of a typed text (a label such as “市财政局 · 办公室” splits into its parts)."""
    return [t for t in _SPLIT.split(text[:MAX_TEXT]) if t][:5]


# --- kinds: what is searched, how it is labelled -------------------------------------------------


class Kind:
    """One kind of object a picker chooses: its model, noun, label and text search."""

    name = ""
    noun = ""
    model: type[Model]
    search_fields: tuple[str, ...] = ("name",)
    related: tuple[str, ...] = ()
    ordering: tuple[str, ...] = ("pk",)

    def label(self, obj: Any) -> str:
        """What the text input shows once the object is chosen."""
        return obj.name

    def example(self, obj: Any) -> str:
        """How the object is named in the “several matches” message."""
        return self.label(obj)

    def names(self, obj: Any) -> set[str]:
        """Texts that still name the chosen object (the hidden pk then stands)."""
        return {self.label(obj), getattr(obj, "name", "")} - {""}

    def search_q(self, terms: list[str]) -> Q:
        """Every word in one of the searched fields."""
        q = Q()
        for term in terms:
            any_field = Q(pk__in=[])
            for name in self.search_fields:
                any_field |= Q(**{f"{name}__icontains": term})
            q &= any_field
        return q

    def exact_q(self, text: str) -> Q:
        """Objects the text names exactly (preferred among several matches)."""
        return Q(name=text)


class OrgKind(Kind):
    name, noun, model = "org", "党组织", Org
    search_fields = ("name", "code")
    ordering = ("path",)

    def label(self, obj: Org) -> str:
        return f"{obj.name}（{obj.code}）"

    def example(self, obj: Org) -> str:
        return obj.name

    def exact_q(self, text: str) -> Q:
        q = Q(name=text) | Q(code__iexact=text)
        m = _LABELLED.match(text)
        if m:
            q |= Q(name=m["name"], code__iexact=m["code"])
        return q


class UnitKind(Kind):
    name, noun, model = "unit", "单位", Unit
    search_fields = ("name", "short_name", "code")
    ordering = ("order", "pk")

    def exact_q(self, text: str) -> Q:
        return Q(name=text) | Q(short_name=text) | Q(code__iexact=text)


class OfficeKind(Kind):
    name, noun, model = "office", "处室", Office
    search_fields = ("name", "unit__name", "unit__short_name")
    related = ("unit",)
    ordering = ("unit__order", "unit_id", "order", "pk")

    def label(self, obj: Office) -> str:
        return f"{obj.unit.short_name or obj.unit.name} · {obj.name}"

    def exact_q(self, text: str) -> Q:
        q = Q(name=text)
        parts = [p.strip() for p in text.split("·")]
        if len(parts) == 2 and all(parts):
            q |= Q(name=parts[1]) & (Q(unit__short_name=parts[0]) | Q(unit__name=parts[0]))
        return q


class PersonKind(Kind):
    """People, for the post and 换届 pickers: searched and labelled by name, unit and office only (T0),
    never by an identifier or a phone number (T1)."""

    name, noun, model = "person", "人员", Person
    search_fields = ("name", "unit__name", "unit__short_name", "office__name")
    related = ("unit", "office")
    ordering = ("name", "pk")

    def label(self, obj: Person) -> str:
        where = obj.unit.short_name or obj.unit.name
        if obj.office_id:
            where = f"{where} · {obj.office.name}"
        return f"{obj.name}（{where}）"

    def exact_q(self, text: str) -> Q:
        q = Q(name=text)
        m = _LABELLED.match(text)
        if m:
            parts = [p.strip() for p in m["code"].split("·")]
            unit = Q(unit__short_name=parts[0]) | Q(unit__name=parts[0])
            office = Q(office__name=parts[1]) if len(parts) == 2 else Q(office__isnull=True)
            q |= Q(name=m["name"]) & unit & office
        return q


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    """Make a kind pickable (other apps register theirs, e.g. duties' responsibility lists)."""
    KINDS[kind.name] = kind


for _kind in (OrgKind(), UnitKind(), OfficeKind(), PersonKind()):
    register_kind(_kind)


# --- scopes: what a user may pick ---------------------------------------------------------------


Narrow = Callable[[QuerySet, int, Any], QuerySet]
"""How a parameter narrows a scope: ``(objects, pk, user) -> objects``. The pk comes from the request,
so it must be resolved within what the user may see (see :func:`within`): a pk out of scope narrows
to nothing, exactly as a pk that does not exist."""


def within(parents: Callable[[Any], QuerySet], lookup: str, *, path: bool = False) -> Narrow:
    """A narrowing by a parent object the user may see: ``parents(user)`` are those objects. With
    ``path`` the objects are those whose ``lookup`` (an org path) starts with the parent's path (the
    parent's subtree); otherwise those whose ``lookup`` is the parent's pk. Still one query: the
    parent is a subquery."""

    def narrow(qs: QuerySet, pk: int, user) -> QuerySet:
        parent = parents(user).filter(pk=pk)
        if path:
            return qs.filter(**{f"{lookup}__startswith": Subquery(parent.values("path")[:1])})
        return qs.filter(**{lookup: pk, f"{lookup}__in": parent.values("pk")})

    return narrow


@dataclass(frozen=True)
class Scope:
    """A named set of objects of one kind for a user, and who may search it at all.

    ``allowed`` must not query (it reads the request's cached scope); ``narrow`` maps a request
    parameter to a :data:`Narrow` (e.g. the offices of the unit chosen next to it, through
    :func:`within`).
    """

    kind: str
    name: str
    queryset: Callable[[Any], QuerySet]
    allowed: Callable[[Any], bool]
    narrow: Mapping[str, Narrow] = field(default_factory=dict)

    def narrowed(self, qs: QuerySet, param: str, value: int, user) -> QuerySet:
        """``qs`` narrowed by one parameter, resolved within the user's scope."""
        return self.narrow[param](qs, value, user)

    def objects(self, user, params: Mapping[str, str] | None = None) -> QuerySet:
        """The scope's objects for the user, narrowed by the digits-only parameters given."""
        qs = self.queryset(user)
        for param in self.narrow:
            value = str((params or {}).get(param) or "")
            if value.isdigit():
                qs = self.narrowed(qs, param, int(value), user)
        return qs


SCOPES: dict[tuple[str, str], Scope] = {}
DEFAULT_SCOPES: dict[str, str] = {}


def register_scope(scope: Scope, *, default: bool = False) -> None:
    """Register a named scope for a kind (``default``: used when a request names none)."""
    SCOPES[(scope.kind, scope.name)] = scope
    if default or scope.kind not in DEFAULT_SCOPES:
        DEFAULT_SCOPES[scope.kind] = scope.name


def scope_for(kind: str, name: str = "") -> Scope | None:
    """The registered scope (the kind's default when ``name`` is empty), or None."""
    return SCOPES.get((kind, name or DEFAULT_SCOPES.get(kind, "")))


def _people(user) -> QuerySet[Person]:
    return Person.objects.visible_to(user).current()


def _people_units(user) -> QuerySet[Unit]:
    return Unit.objects.filter(pk__in=_people(user).values("unit_id"))


# Orgs: those the user sees, for whoever sees beyond their own org (members and system accounts see
# one org at most: nothing to search, and their filters still resolve typed text on submit).
register_scope(
    Scope("org", "visible", lambda user: Org.objects.visible_to(user).distinct(), access.sees_beyond_own_org)
)
# The people list's filters: the units and offices of the people the user may list.
register_scope(Scope("unit", "people", _people_units, access.can_list_people))
register_scope(
    Scope(
        "office",
        "people",
        lambda user: Office.objects.filter(pk__in=_people(user).values("office_id")),
        access.can_list_people,
        narrow={"unit": within(_people_units, "unit_id")},
    )
)
# Placing a person (new person, transfer): what the user manages.
register_scope(
    Scope(
        "org",
        "placement",
        lambda user: access.managed_orgs(user).exclude(kind=Org.Kind.LEADING_GROUP).active_on(),
        access.manages_any,
    )
)
register_scope(Scope("unit", "placement", access.managed_units, access.manages_any))
register_scope(
    Scope(
        "office",
        "placement",
        lambda user: Office.objects.filter(unit__in=access.managed_units(user).values("pk")),
        access.manages_any,
        narrow={"unit": within(access.managed_units, "unit_id")},
    )
)

# Posts and 换届: the current people of the subtree of an org the user manages (``forms.post_candidates``),
# narrowed by ``org`` to exactly that org's candidates; an org the user does not manage narrows to nobody.
register_scope(
    Scope(
        "person",
        "post_candidates",
        lambda user: Person.objects.current().filter(access.managed_org_q(user, "org__")),
        access.manages_any,
        narrow={"org": within(access.managed_orgs, "org__path", path=True)},
    )
)


def _grants_roles(user) -> bool:
    return user.has_role(Role.SECADMIN)


# The secadmin's grant form: every active unit and org (a role's scope), for the secadmin only.
register_scope(Scope("unit", "grantable", lambda user: Unit.objects.filter(is_active=True), _grants_roles))
register_scope(Scope("org", "grantable", lambda user: Org.objects.active_on(), _grants_roles))


# --- searching and resolving --------------------------------------------------------------------


def _ranked(qs: QuerySet, kind: Kind, text: str) -> QuerySet:
    """Matches of the text, exact names first, then the kind's natural order."""
    rank = Case(When(kind.exact_q(text), then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        qs.filter(kind.search_q(terms_of(text)))
        .select_related(*kind.related)
        .annotate(_sz_rank=rank)
        .order_by("_sz_rank", *kind.ordering)
    )


def search(qs: QuerySet, kind: Kind, text: str, limit: int = LIMIT) -> tuple[list, bool]:
    """At most ``limit`` matches of the text (one query) and whether there are more."""
    if not terms_of(text.strip()):
        return [], False
    rows = list(_ranked(qs, kind, text.strip())[: limit + 1])
    return rows[:limit], len(rows) > limit


def query_text(params: Mapping[str, str]) -> str:
    """The typed text of a suggestion request: ``q``, or the picker's own ``<name>_q`` input."""
    text = params.get("q")
    if text is None:
        text = next((v for k, v in params.items() if k.endswith("_q")), "")
    return str(text).strip()[:MAX_TEXT]


# --- the form field and its widget --------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """What a picker submitted: the hidden pk and the text (None when the text input was absent,
    as in a plain link ``?org=12``)."""

    pk: str
    text: str | None


@dataclass(frozen=True)
class Shown:
    """What a picker displays: the pk in the hidden input, the text in the visible one."""

    pk: str
    text: str


class PickerWidget(forms.Widget):
    """A text input, a hidden pk and an empty listbox the suggestions are swapped into."""

    template_name = "org/_picker.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.url = ""  # the suggestion endpoint; empty: no suggestions, the text resolves on submit
        self.include = ""  # a selector htmx adds to the request (the pk a scope is narrowed by)
        self.list_label = ""

    def value_from_datadict(self, data, files, name) -> Typed:
        text = data.get(f"{name}_q")
        return Typed(pk=str(data.get(name) or ""), text=None if text is None else str(text))

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and f"{name}_q" not in data

    def id_for_label(self, id_: str) -> str:
        return id_

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        shown = value if isinstance(value, Shown) else Shown("", "")
        widget_id = context["widget"]["attrs"].get("id") or f"sz-pick-{name}"
        context["widget"].update(
            pk=shown.pk,
            text=shown.text,
            pk_id=f"{widget_id}_pk",
            list_id=f"{widget_id}_list",
            url=self.url,
            include=self.include,
            list_label=self.list_label,
        )
        return context


class PickerField(forms.Field):
    """A form field choosing one object of a kind within a registered scope; cleans to the object.

    Call :func:`bind` in the form's ``__init__`` to set the queryset for the user. A pk in scope
    wins unless the text beside it was changed to something else (without JavaScript the hidden pk
    cannot be cleared, so an edited or emptied text is what the user meant); otherwise the text is
    resolved: one match, or one exact name among several.
    """

    widget = PickerWidget
    default_error_messages = {
        "invalid_choice": "所选项不在您的查看范围内，请重新选择。",
        "required": "请输入名称并从候选项中选择。",
    }

    def __init__(self, kind: str, *, scope: str = "", placeholder: str = "", narrow: str = "",
                 filtering: bool = False, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.filtering = filtering  # a list filter: empty means everything
        self.kind = KINDS[kind]
        self.scope_name = scope or DEFAULT_SCOPES.get(kind, "")
        self.narrow = narrow  # the name of the picker (in the same form) this one is narrowed by
        self.queryset: QuerySet | None = None
        self.form: forms.BaseForm | None = None  # set by bind(): a narrowed picker reads its neighbour
        self.user = None  # set by bind(): a narrowing resolves its pk within the user's scope
        self._shown: Shown | None = None
        self.widget.list_label = f"{self.label or self.kind.noun}候选项"
        self.widget.attrs.setdefault("placeholder", placeholder or f"输入{self.kind.noun}名称查找")

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result._shown = None
        return result

    @property
    def scope(self) -> Scope:
        found = scope_for(self.kind.name, self.scope_name)
        if found is None:
            raise LookupError(f"no picker scope {self.kind.name}/{self.scope_name}")
        return found

    def _objects(self, *, narrowed: bool = False) -> QuerySet:
        if self.queryset is None:
            raise RuntimeError("PickerField used before pickers.bind(form, user)")
        qs = self.queryset.select_related(*self.kind.related)
        # Typed text is looked up among the objects of the one resolved just before in the same form
        # (an office in the chosen unit), as the suggestions are: “办公室” then names one office. A pk
        # is not narrowed: the form's own checks say what is wrong with it.
        if narrowed and self.narrow in self.scope.narrow:
            chosen = getattr(self.form, "cleaned_data", {}).get(self.narrow)
            if chosen is not None:
                qs = self.scope.narrowed(qs, self.narrow, chosen.pk, self.user)
        return qs

    def narrow_to(self, param: str, pk: int) -> None:
        """Narrow the choices for good (e.g. an org board's lists to the org's subtree), and the
        suggestions with them. Call after :func:`bind`."""
        self.queryset = self.scope.narrowed(self.queryset, param, pk, self.user)
        if self.widget.url:
            self.widget.url += f"&{param}={pk}"

    def _not_found(self, text: str) -> ValidationError:
        tail = "请检查输入，或清空此项查看全部。" if self.filtering else "请检查输入，或清空此项。"
        if self.required:
            tail = "请检查输入。"
        return ValidationError(f"没有找到名称包含“{text}”的{self.kind.noun}。{tail}", code="not_found")

    def resolve_text(self, text: str) -> Any:
        """The one object the text names in scope (a ValidationError otherwise)."""
        qs = _ranked(self._objects(narrowed=True), self.kind, text)
        rows = list(qs[: LIMIT + 1])
        if not rows:
            raise self._not_found(text)
        if len(rows) == 1:
            return rows[0]
        exact = [r for r in rows if r._sz_rank == 0]
        if len(exact) == 1:
            return exact[0]
        count = len(rows) if len(rows) <= LIMIT else qs.count()
        examples = "、".join(self.kind.example(r) for r in rows[:3])
        raise ValidationError(
            f"有 {count} 个{self.kind.noun}名称包含“{text}”（如 {examples}），请输入更完整的名称。",
            code="several",
        )

    def clean(self, value):
        typed = value if isinstance(value, Typed) else Typed(str(value or ""), None)
        pk, text = typed.pk.strip(), None if typed.text is None else typed.text.strip()[:MAX_TEXT]
        self._shown = Shown("", text or "")
        obj = None
        if pk.isdigit():
            obj = self._objects().filter(pk=int(pk)).first()
            if obj is not None and (text is None or text in self.kind.names(obj)):
                return self._chosen(obj)
        if not text:
            if pk and (obj is None or text is None):
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        return self._chosen(self.resolve_text(text))

    def _chosen(self, obj):
        self._shown = Shown(str(obj.pk), self.kind.label(obj))
        return obj

    def prepare_value(self, value):
        if isinstance(value, Typed):
            if self._shown is not None:
                return self._shown
            return Shown(value.pk, value.text or "")
        if isinstance(value, Model):
            return Shown(str(value.pk), self.kind.label(value))
        if value in (None, ""):
            return Shown("", "")
        # An initial pk (e.g. the current org of a transfer): one query for its label.
        obj = self._objects().filter(pk=value).first() if str(value).isdigit() else None
        return Shown(str(obj.pk), self.kind.label(obj)) if obj is not None else Shown("", "")

    def has_changed(self, initial, data) -> bool:
        pk = data.pk if isinstance(data, Typed) else str(data or "")
        initial = str(initial.pk if isinstance(initial, Model) else initial or "")
        return pk != initial


def bind(form: forms.BaseForm, user, querysets: Mapping[str, QuerySet] | None = None) -> None:
    """Set each picker of the form to its scope for the user (no query), and wire its widget.
    ``querysets``: a field's objects when the form already has them (the same as its scope's)."""
    for name, f in form.fields.items():
        if not isinstance(f, PickerField):
            continue
        scope = f.scope
        f.queryset = (querysets or {}).get(name)
        if f.queryset is None:
            f.queryset = scope.queryset(user)
        f.form, f.user = form, user
        allowed = scope.allowed(user)
        f.widget.url = f"{reverse('org:pick', args=[f.kind.name])}?scope={scope.name}" if allowed else ""
        if f.narrow and f.narrow in form.fields:
            f.widget.include = f"#{form[f.narrow].auto_id}_pk"


def canonical_params(form: forms.BaseForm, params: QueryDict) -> QueryDict:
    """The query string with each resolved picker as its pk (``?org=12``, no ``org_q``), so the page's
    links (pages, counts, export) carry the choice, not the typed text. A picker in error keeps
    what was typed. Never the page number: a link to other rows names its own page, an export none."""
    out = params.copy()
    out.pop("page", None)
    cleaned = getattr(form, "cleaned_data", None)
    if cleaned is None:
        return out
    for name, f in form.fields.items():
        key = form.add_prefix(name)
        if not isinstance(f, PickerField) or name in form.errors:
            continue
        out.pop(f"{key}_q", None)
        value = cleaned.get(name)
        if value is None:
            out.pop(key, None)
        else:
            out[key] = str(value.pk)
    return out
