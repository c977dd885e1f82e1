"""The project's URLs plus a trivial page: the query cost every signed-in request pays (session,
user, role grants, the user's scope, and the menu's unread count), measured as the base of the
dashboard cards' query budget."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from sizheng.org.access import scope_of
from sizheng.urls import urlpatterns as project_urlpatterns


@login_required
def trivial(request):
    scope_of(request.user)
    return HttpResponse(engines["django"].from_string("ok").render({}, request))


urlpatterns = [path("__trivial__/", trivial, name="trivial"), *project_urlpatterns]
