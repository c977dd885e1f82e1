"""The people list loads only what it shows: no encrypted identifiers (nor their decryption) per row,
no extra query per row, and the same labels as Django's ``get_FOO_display``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.org.models import Person, PoliticalStatus

pytestmark = pytest.mark.django_db
PEOPLE = reverse("org:people")


def test_the_list_rows_defer_the_identifiers_and_need_no_query_per_row(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.committee_admin)
    with django_assert_max_num_queries(9):
        response = client.get(PEOPLE)
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert len(rows) >= 7
    for p in rows:
        assert {"id_number", "phone", "id_index"} <= p.get_deferred_fields()
    html = response.content.decode()
    assert "中共党员" in html and "群众" in html


def test_display_labels_match_the_choices_and_fall_back_to_the_value(cast):
    p = Person(name="测试", gender=Person.Gender.FEMALE, political_status=PoliticalStatus.CPC_PROBATIONARY)
    assert p.get_gender_display() == "女"
    assert p.get_political_status_display() == "中共预备党员"
    p.gender, p.political_status = "", "unknown"
    assert p.get_gender_display() == "" and p.get_political_status_display() == "unknown"
