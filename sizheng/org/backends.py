"""The authentication backend: Django's ``ModelBackend`` whose per-request user load also brings the
values every page needs: the three roster ids of ``org.access.scope_of`` (the person, their org and
unit) and the unread-message count of the menu (``core.context.navigation``).

``scope_of`` used to read them with a query of its own on every signed-in request; as scalar
subqueries on the unique ``org_person.user_id`` they ride along with the user row, one query fewer
per page, and the same for the unread count (``core.notify.mark_read`` drops it from the user, so a
page that marks messages read counts again). Only ids and a count are read — no roster field, nothing encrypted — and ``user.person`` is left
alone (a page that needs the person loads it as before).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, IntegerField, OuterRef, Subquery

#: The annotations ``scope_of`` looks for (absent on a user loaded any other way).
PERSON_FIELDS = {"_sz_person_id": "pk", "_sz_person_org_id": "org_id", "_sz_person_unit_id": "unit_id"}


class PersonAwareBackend(ModelBackend):
    def get_user(self, user_id):
        from sizheng.core.models import Notification
        from sizheng.org.models import Person

        mine = Person.objects.filter(user=OuterRef("pk"))
        unread = (
            Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
            .order_by()
            .values("user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        users = get_user_model()
        qs = users._default_manager.annotate(
            **{name: Subquery(mine.values(field)[:1]) for name, field in PERSON_FIELDS.items()},
            _sz_unread=Subquery(unread, output_field=IntegerField()),
        )
        try:
            user = qs.get(pk=user_id)
        except users.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
