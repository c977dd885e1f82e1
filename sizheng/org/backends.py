"""The authentication backend: Django's ``ModelBackend`` whose per-request user load also brings the
values every page needs: the three roster ids of ``org.access.scope_of`` (the person, their org and
unit) and the unread-message count of the menu (``core.context.navigation``).

``scope_of`` and the menu used to read them with a query each on every signed-in request; joined to
the user row (the roster on its unique ``user_id``, the count as a scalar subquery) they cost none.
``core.notify.mark_read`` and ``notify`` drop the count from the user, so a page that changes it counts
again. Only ids and a count are read — no roster field, nothing encrypted — and ``user.person`` is
left alone (a page that needs the person loads it as before).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection

#: The attributes ``scope_of`` looks for (absent on a user loaded any other way).
PERSON_FIELDS = {"_sz_person_id": "id", "_sz_person_org_id": "org_id", "_sz_person_unit_id": "unit_id"}


@cache
def _user_sql() -> str:
    """One statement: the user row, their roster ids (a LEFT JOIN on the unique ``user_id``) and the
    unread count. Raw SQL built once per process: the same query through the ORM's subquery
    annotations cost ~1 ms of Python to compile on every request, more than the three queries it
    replaces."""
    from sizheng.core.models import Notification
    from sizheng.org.models import Person

    q = connection.ops.quote_name
    user_meta, person_meta, note_meta = get_user_model()._meta, Person._meta, Notification._meta
    person_cols = {f.attname: f.column for f in person_meta.concrete_fields}
    note_cols = {f.attname: f.column for f in note_meta.concrete_fields}
    person = ", ".join(
        f"p.{q(person_cols[attname])} AS {q(alias)}" for alias, attname in PERSON_FIELDS.items()
    )
    user_pk, notes, note_user, note_read = (
        q(user_meta.pk.column),
        q(note_meta.db_table),
        q(note_cols["user_id"]),
        q(note_cols["read_at"]),
    )
    unread = f"SELECT COUNT(*) FROM {notes} n WHERE n.{note_user} = u.{user_pk} AND n.{note_read} IS NULL"  # noqa: S608
    joined = f"{q(user_meta.db_table)} u LEFT JOIN {q(person_meta.db_table)} p ON p.{q(person_cols['user_id'])} = u.{user_pk}"
    # Identifiers only, from the models' metadata and quoted; the one value is a query parameter.
    return f"SELECT u.*, {person}, ({unread}) AS {q('_sz_unread')} FROM {joined} WHERE u.{user_pk} = %s"  # noqa: S608


class PersonAwareBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()
        try:
            pk = users._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = list(users._default_manager.raw(_user_sql(), [pk]))
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
