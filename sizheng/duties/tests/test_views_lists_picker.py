"""The 责任清单 create form's org is a picker (the ``assignable`` scope), not a select of the tree: typed
names resolve without JavaScript, orgs outside the user's assigning subtrees are refused by pk or name."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty, DutyList

pytestmark = pytest.mark.django_db
LISTS = reverse("duties:lists")
CREATE = reverse("duties:list_create")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _data(**changes) -> dict:
    return {"org": "", "year": 2027, "mode": "template", "title": "", **changes}


def test_the_lists_page_renders_an_org_picker_not_the_tree(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(LISTS).content.decode()
    form = html[html.index(f'action="{CREATE}"') :]
    assert 'name="org_q"' in form and '<select name="org"' not in form
    assert cast.branch_c.name not in form and "scope=assignable" in form


def test_it_creates_a_list_for_a_typed_org_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(CREATE, _data(org_q="市司法局机关支部委员会"))
    assert response.status_code == 302
    duty_list = DutyList.objects.get(org=cast.branch_c, year=2027)
    assert Duty.objects.filter(duty_list=duty_list).exists()
    assert AuditEvent.objects.filter(action="duty_list_create", object_id=str(duty_list.pk)).exists()


def test_it_refuses_an_org_outside_the_assigning_subtree_by_pk_or_name(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(CREATE, _data(org=cast.branch_b1.pk))
    assert response.status_code == 422
    assert "您不能为该党组织创建责任清单，请重新选择。" in response.content.decode()
    response = client.post(CREATE, _data(org_q="市教育局机关第一支部委员会"))
    assert response.status_code == 422
    assert "没有找到名称包含“市教育局机关第一支部委员会”的党组织。" in response.content.decode()
    assert not DutyList.objects.exists()


def test_the_org_suggestions_follow_the_assigning_subtree_and_are_404_for_others(client, cast):
    url = reverse("org:pick", args=["org"])
    client.force_login(cast.secretary_a)
    found = re.findall(
        r'data-pk="(\d+)"', client.get(url, {"scope": "assignable", "q": "支部"}).content.decode()
    )
    assert found == [str(cast.branch_a1.pk)]
    for who in ("member", "outsider", "leader", "secadmin"):
        client.force_login(getattr(cast, who))
        assert client.get(url, {"scope": "assignable", "q": "支部"}).status_code == 404
