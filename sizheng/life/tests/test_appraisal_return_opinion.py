"""The higher org's return opinion on an appraisal: stored, shown to the branch, cleared on approval."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sizheng.life import appraisal as svc
from sizheng.life.models import Appraisal, Grade

pytestmark = pytest.mark.django_db
OPINION = "请补充党员互评意见后重新提出建议等次。"


@pytest.fixture(autouse=True)
def _today(time_machine):
    """A fixed day in December 2026 (the year being appraised)."""
    time_machine.move_to(date(2026, 12, 1), tick=False)


def _proposed(cast) -> Appraisal:
    """Branch A1's 2026 appraisal, every member proposed 合格."""
    appraisal = svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=2026)
    for entry in appraisal.entries.all():
        svc.entry_review(actor=cast.secretary_a, entry=entry, peer_summary="", rating={},
                         proposed_grade=Grade.QUALIFIED)  # fmt: skip
    appraisal.refresh_from_db()
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    appraisal.refresh_from_db()
    return appraisal


def _return(cast, appraisal, opinion=OPINION) -> Appraisal:
    return svc.appraisal_review(actor=cast.committee_admin, appraisal=appraisal, version=appraisal.version,
                                approve=False, opinion=opinion)  # fmt: skip


def test_it_stores_the_return_opinion_and_clears_it_on_approval(cast):
    appraisal = _return(cast, _proposed(cast), f"  {OPINION}  ")
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN and appraisal.return_opinion == OPINION
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    appraisal.refresh_from_db()
    assert appraisal.return_opinion == OPINION  # kept while the branch's new proposal awaits approval
    svc.appraisal_review(actor=cast.committee_admin, appraisal=appraisal, version=appraisal.version,
                         approve=True)  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.APPROVED and appraisal.return_opinion == ""


def test_it_refuses_an_opinion_longer_than_the_field(cast):
    appraisal = _proposed(cast)
    with pytest.raises(ValidationError, match="退回意见不能超过 300 字"):
        _return(cast, appraisal, "意" * 301)
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.PROPOSED and appraisal.return_opinion == ""


def test_it_shows_the_opinion_to_the_branch_and_not_to_members(client, cast):
    appraisal = _return(cast, _proposed(cast))
    url = reverse("life:appraisal_detail", args=[appraisal.pk])
    client.force_login(cast.secretary_a)
    page = client.get(url).content.decode()
    assert "上级退回意见" in page and OPINION in page
    client.force_login(cast.member)
    assert OPINION not in client.get(url).content.decode()
