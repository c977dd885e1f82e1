"""The search page: one GET form (works without JavaScript), results grouped by module.

Nothing here is audited or logged: the sources read only T0 data and names in the user's scope, and
the query text may itself be personal (a name), so it never reaches a log line (README, "审计与日志").
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sizheng.org.forms import StyledForm
from sizheng.search import registry

TOO_LONG = f"关键词最多 {registry.MAX_QUERY} 个字，请缩短后再查找。"


class SearchForm(StyledForm):
    """The query: 1 to 50 characters; words separated by spaces must all match."""

    q = forms.CharField(
        label="关键词",
        required=False,
        max_length=registry.MAX_QUERY,
        error_messages={"max_length": TOO_LONG},
        widget=forms.SearchInput(
            attrs={
                "placeholder": "输入姓名、组织、事项、会议主题或资料标题，多个词用空格分开",
                "autocomplete": "off",
            }
        ),
    )

    def query(self) -> str:
        """The cleaned query, or "" when empty or invalid."""
        if not self.is_bound or not self.is_valid():
            return ""
        return registry.clean(self.cleaned_data.get("q"))


@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    """Hits of every source in the user's scope, grouped, at most ``PER_SOURCE`` each."""
    form = SearchForm(request.GET or None)
    query = form.query()
    groups = registry.search(request.user, query) if query else []
    ctx = {
        "form": form,
        "query": query,
        "groups": groups,
        "found": [g for g in groups if g.hits],
        "missing": [g for g in groups if not g.hits],
        "total": sum(g.count for g in groups),
        "sources": registry.sources(),
        "per_source": registry.PER_SOURCE,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "search/results.html", ctx, status=status)
