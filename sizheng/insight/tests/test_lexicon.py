"""The editable theme and sentiment lexicon: the committee admin edits it (CAS, audited), managers
read it, others get 404; the form round-trips the JSON; the analysis uses the active lexicon."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent
from sizheng.insight import analysis, text
from sizheng.insight.forms_analysis import LexiconForm, lexicon_initial
from sizheng.insight.models import Lexicon

pytestmark = pytest.mark.django_db
URL = "insight:lexicon"


def _form_data(**changes):
    data = {**lexicon_initial(text.load_lexicon()), "version": 0}
    data.update(changes)
    return data


def test_it_starts_from_the_shipped_lexicon(cast):
    active = analysis.lexicon_active()
    assert active.version == 0 and "工作压力" in active.data["themes"]
    assert analysis.analyzer(active) is text.default_analyzer()


def test_it_saves_the_lexicon_with_compare_and_swap_and_an_audit_row(cast):
    data = text.load_lexicon()
    data["themes"]["后勤保障"] = ["食堂", "饭菜"]
    row = analysis.lexicon_update(actor=cast.committee_admin, data=data, version=0)
    assert row.version == 1 and row.data["themes"]["后勤保障"] == ["食堂", "饭菜"]
    assert analysis.lexicon_active().version == 1
    event = AuditEvent.objects.get(action="lexicon_update")
    assert event.actor == cast.committee_admin and event.detail["fields"] == ["themes", "sentiment"]
    with pytest.raises(Conflict):
        analysis.lexicon_update(actor=cast.committee_admin, data=data, version=0)
    assert analysis.lexicon_update(actor=cast.committee_admin, data=data, version=1).version == 2
    assert Lexicon.objects.count() == 1


def test_it_refuses_a_broken_lexicon_and_other_editors(cast):
    with pytest.raises(ValidationError, match="至少两个字"):
        analysis.lexicon_update(actor=cast.committee_admin, data={**text.load_lexicon(), "themes": {"x": ["y"]}},
                                version=0)  # fmt: skip
    with pytest.raises(PermissionDenied):
        analysis.lexicon_update(actor=cast.secretary_a, data=text.load_lexicon(), version=0)
    assert not Lexicon.objects.exists()


def test_it_edits_the_lexicon_on_its_page(client, cast):
    client.force_login(cast.committee_admin)
    page = client.get(reverse(URL))
    assert page.status_code == 200 and "工作压力：工作压力、考核压力" in page.content.decode()
    themes = _form_data()["themes"] + "\n后勤保障：食堂、饭菜"
    response = client.post(reverse(URL), _form_data(themes=themes, intensifiers="很=1.5、非常=1.8"))
    assert response.status_code == 302
    row = Lexicon.objects.get()
    assert row.data["themes"]["后勤保障"] == ["食堂", "饭菜"]
    assert row.data["sentiment"]["intensifiers"] == {"很": 1.5, "非常": 1.8}
    assert row.data["_说明"]  # keys the form does not edit are kept
    assert AuditEvent.objects.filter(action="lexicon_update", actor=cast.committee_admin).exists()


def test_it_refuses_bad_stale_forbidden_and_outside_edits(client, cast):
    client.force_login(cast.committee_admin)
    bad = client.post(reverse(URL), _form_data(themes="没有冒号的一行"))
    assert bad.status_code == 422 and "应写成“主题：关键词、关键词”" in bad.content.decode()
    short = client.post(reverse(URL), _form_data(themes="压力：累"))
    assert short.status_code == 422 and "至少两个字" in short.content.decode()
    weight = client.post(reverse(URL), _form_data(negators="不=2"))
    assert weight.status_code == 422 and "不需要权重" in weight.content.decode()
    analysis.lexicon_update(actor=cast.committee_admin, data=text.load_lexicon(), version=0)
    stale = client.post(reverse(URL), _form_data(version=0))
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    assert client.put(reverse(URL)).status_code == 405
    client.force_login(cast.secretary_a)
    assert client.get(reverse(URL)).status_code == 200  # managers read it
    assert client.post(reverse(URL), _form_data(version=1)).status_code == 403
    for user in (cast.member, cast.outsider, cast.counselor):
        client.force_login(user)
        assert client.get(reverse(URL)).status_code == 404
    assert Lexicon.objects.get().version == 1


def test_it_round_trips_the_shipped_lexicon_through_the_form():
    base = text.load_lexicon()
    form = LexiconForm(data={**lexicon_initial(base), "version": 0})
    assert form.is_valid(), form.errors
    data = form.to_data(base)
    assert data["themes"] == {k: list(v) for k, v in base["themes"].items()}
    for key, value in base["sentiment"].items():
        assert data["sentiment"][key] == value, key


@given(
    st.dictionaries(
        st.text(alphabet="工作压力住房教育健康发展", min_size=1, max_size=4),
        st.lists(
            st.text(alphabet="加班房租学校医院晋升通道", min_size=2, max_size=5), min_size=1, max_size=4
        ),
        min_size=1,
        max_size=5,
    )
)
def test_it_round_trips_any_theme_table(themes):
    base = {**text.load_lexicon(), "themes": themes}
    form = LexiconForm(data={**lexicon_initial(base), "version": 0})
    assert form.is_valid(), form.errors
    assert form.to_data(base)["themes"] == {k: list(dict.fromkeys(v)) for k, v in themes.items()}
