"""集中部署 targets: only the assigning org's direct children are listed (not a checkbox per org of the
tree); deeper orgs come with 含下级 or typed by name, resolved within the same orgs as before."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties.models import Campaign, Duty

pytestmark = pytest.mark.django_db
URL = reverse("duties:campaign_create")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _data(**changes) -> dict:
    return {"title": "开展“七一”走访慰问", "due_on": "2026-06-30", "priority": "high", **changes}


def _targets(campaign=None) -> set[str]:
    duties = Duty.objects.filter(campaign=campaign or Campaign.objects.get())
    return set(duties.values_list("assignee_org__code", flat=True))


def test_it_lists_only_the_direct_children_of_the_assigning_org(client, cast):
    client.force_login(cast.committee_admin)
    html = client.get(URL).content.decode()
    listed = set(re.findall(r'name="orgs" value="(\d+)"', html))
    assert listed == {str(o.pk) for o in (cast.committee_a, cast.leading_a, cast.general_b, cast.branch_c)}
    assert cast.branch_a1.name not in html and 'name="more"' in html and 'name="with_descendants"' in html


def test_it_deploys_to_typed_deeper_orgs_with_audit(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(URL, _data(more="市教育局机关第一支部委员会\nA1\n"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert _targets(campaign) == {"B1", "A1"}
    assert AuditEvent.objects.filter(action="campaign_create", object_id=str(campaign.pk)).exists()


def test_it_deploys_to_the_chosen_orgs_and_everything_below_them(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(URL, _data(orgs=[cast.committee_a.pk], with_descendants="on"))
    assert response.status_code == 302
    assert _targets() == {"A", "A1", "A2"}


def test_it_refuses_typed_orgs_outside_the_assigning_subtree_and_keeps_a_posted_deep_choice(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(URL, _data(more="B1"))
    assert response.status_code == 422
    assert "第 1 行：没有找到名称包含“B1”的党组织。" in response.content.decode()
    response = client.post(URL, _data(orgs=[cast.branch_b1.pk]))
    assert response.status_code == 422 and "所选责任单位不在您的管理范围内" in response.content.decode()
    client.force_login(cast.committee_admin)
    response = client.post(URL, _data(title="", orgs=[cast.branch_a1.pk]))
    assert response.status_code == 422
    assert re.search(rf'name="orgs" value="{cast.branch_a1.pk}"[^>]*checked', response.content.decode())
    assert not Campaign.objects.exists()


def test_it_lists_no_children_beyond_the_limit_and_takes_typed_names(client, cast, monkeypatch):
    from sizheng.duties.forms import CampaignForm

    monkeypatch.setattr(CampaignForm, "LISTED", 3)  # the root has 4 children here, ~700 at demo scale 10
    client.force_login(cast.committee_admin)
    html = client.get(URL).content.decode()
    assert 'name="orgs" value=' not in html and "直属下级组织超过 3 个" in html
    assert cast.general_b.name not in html
    response = client.post(URL, _data(more="B", with_descendants="on"))
    assert response.status_code == 302
    assert _targets() == {"B", "B1"}


def test_an_org_ticked_and_typed_twice_gets_one_duty(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(
        URL, _data(orgs=[cast.committee_a.pk], more=f"A1\n{cast.branch_a1.name}\n{cast.committee_a.name}\n")
    )
    assert response.status_code == 302
    duties = Duty.objects.filter(campaign=Campaign.objects.get())
    codes = list(duties.values_list("assignee_org__code", flat=True))
    assert sorted(codes) == ["A", "A1"]  # no duplicates


def test_below_applies_to_all_direct_children_too(client, cast):
    client.force_login(cast.committee_admin)
    response = client.post(URL, _data(all_children="on", with_descendants="on"))
    assert response.status_code == 302
    assert {"A1", "A2"} <= _targets()  # grandchildren of the root, reached through 含下级
