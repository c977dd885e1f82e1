"""``/healthz``: a trivial endpoint for monitors and the load test's baseline (``bench/load.py``).

It touches no database, no session and no template: an anonymous GET runs only the middleware
stack and answers ``ok`` (text/plain), so a monitor sees whether the web workers answer at all, and
the load test measures what any Django request costs on this machine before a page does real work.
It says nothing about the database on purpose — a probe that queried it would take workers out of
rotation whenever the database hiccups; ``python -m sizheng check`` / the backup job watch that.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok``, never cached; GET and HEAD only."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
