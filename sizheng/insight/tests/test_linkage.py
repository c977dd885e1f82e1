"""The linkage test (issue 7 acceptance; ARCHITECTURE §5): someone with full database access tries to
match the ledger of who answered (``AnswerLedger``) to the anonymous answer sheets
(``AnonymousResponse``) and does no better than chance.

Forty people answer one after another, each with an answer only they gave (so the truth is known).
The attacker lines the two tables up by physical order (no ORDER BY; rowid on SQLite, ctid on
PostgreSQL) and by primary key, and looks for any time column to join on. The number of correct
matches is compared with what a random guess achieves:

* after the wave closes (rows re-written in random order): the fixed points of a uniformly random
  permutation of 40 — the bound is the count such a permutation exceeds with probability < 10⁻⁶;
* while the wave is open (answers written in shuffled batches of k = ANONYMITY_MIN_GROUP): the
  batches follow the order of answering by design, so the bound is that of a random guess inside
  each batch of k — the sum of the fixed points of 40 / k random permutations of k.

A control run with the shuffles switched off shows the same attack does find a leak, so the test
can fail. The tables' columns are introspected too: no link to a user or a person on an answer and
no time finer than the wave, and an anonymous answer writes no audit row and no notification.
"""

from __future__ import annotations

import json
import math
import uuid
from fractions import Fraction

import pytest
import time_machine
from django.db import connection, models

from sizheng.core import anonymous as anon_store
from sizheng.core.models import AuditEvent, Notification
from sizheng.insight import services
from sizheng.insight.models import AnonymousResponse, AnswerLedger, QuestionKind, Wave
from sizheng.insight.tests.test_surveys import TODAY, make_survey, more_members, publish
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db
N = 40
K = 5
ALPHA = Fraction(1, 10**6)
TIME_FIELDS = (models.DateTimeField, models.DateField, models.TimeField, models.DurationField)


# --- chance ----------------------------------------------------------------------------------------


def fixed_points(n: int) -> list[Fraction]:
    """P(a uniformly random permutation of n has exactly j fixed points), j = 0..n (rencontres)."""
    return [
        Fraction(1, math.factorial(j)) * sum(Fraction((-1) ** i, math.factorial(i)) for i in range(n - j + 1))
        for j in range(n + 1)
    ]


def convolve(a: list[Fraction], b: list[Fraction]) -> list[Fraction]:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def chance_bound(dist: list[Fraction], alpha: Fraction = ALPHA) -> int:
    """The smallest c with P(X > c) ≤ alpha: more matches than c means better than chance."""
    tail = Fraction(0)
    for c in range(len(dist) - 1, -1, -1):
        if tail + dist[c] > alpha:
            return c
        tail += dist[c]
    return 0


def test_it_computes_the_chance_bounds_exactly():
    dist = fixed_points(N)
    assert sum(dist) == 1 and dist[N - 1] == 0  # n−1 fixed points force the last
    assert abs(float(dist[0]) - math.exp(-1)) < 1e-12
    batches = [Fraction(1)]
    for _ in range(N // K):
        batches = convolve(batches, fixed_points(K))
    assert sum(batches) == 1
    assert chance_bound(dist) == 9  # a random permutation of 40 has ≥ 10 fixed points with p ≈ 1e−7
    assert 8 < chance_bound(batches) < N  # about one per batch on average


# --- the attack --------------------------------------------------------------------------------------


def _physical(table: str, columns: str, wave_id: int, *, ordered: bool) -> list[tuple]:
    """Rows of a wave as the database stores them: no ORDER BY at all, or by the physical row
    position (rowid on SQLite, ctid on PostgreSQL)."""
    order = ""
    if ordered:
        order = {"sqlite": "ORDER BY rowid", "postgresql": "ORDER BY ctid"}.get(connection.vendor, "")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE wave_id = %s {order}", [wave_id])  # noqa: S608
        return list(cursor.fetchall())


def _key(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def attack(wave: Wave, truth: dict[uuid.UUID, int]) -> dict[str, tuple[list[int], list[int]]]:
    """For each strategy, the ledger's people and the answers' true authors, lined up position by
    position as the strategy orders them."""
    ledger_t, answers_t = AnswerLedger._meta.db_table, AnonymousResponse._meta.db_table
    out = {}
    for name, ordered in (
        ("physical order (no ORDER BY)", False),
        ("physical position (rowid / ctid)", True),
    ):
        people = [row[0] for row in _physical(ledger_t, "person_id", wave.pk, ordered=ordered)]
        authors = [truth[_key(row[0])] for row in _physical(answers_t, "key", wave.pk, ordered=ordered)]
        out[name] = (people, authors)
    people = list(AnswerLedger.objects.filter(wave=wave).order_by("key").values_list("person_id", flat=True))
    keys = AnonymousResponse.objects.filter(wave=wave).order_by("key").values_list("key", flat=True)
    out["primary key"] = (people, [truth[k] for k in keys])
    return out


def hits(people: list[int], authors: list[int]) -> int:
    assert len(people) == len(authors) == N
    return sum(1 for p, a in zip(people, authors, strict=True) if p == a)


def _answer_all(cast, *, k: int = K):
    """40 people answer in a known order; each writes a sentence only they wrote."""
    people = more_members(cast, N, prefix="答卷人")
    survey = make_survey(cast)
    text_q = next(q for q in services.ordered_questions(survey) if q.kind == QuestionKind.TEXT)
    wave = publish(cast, survey)
    audit_before, notes_before = AuditEvent.objects.count(), Notification.objects.count()
    for i, person in enumerate(people):
        answers = {str(q.pk): 1 for q in services.ordered_questions(survey) if q.kind == QuestionKind.LIKERT}
        answers.update(
            {str(q.pk): 0 for q in services.ordered_questions(survey) if q.kind == QuestionKind.SINGLE}
        )
        answers[str(text_q.pk)] = f"第{i:02d}位答卷人的意见"
        services.response_submit(actor=person.user, wave=wave, answers=answers)
    assert AuditEvent.objects.count() == audit_before, "an anonymous answer wrote an audit row"
    assert Notification.objects.count() == notes_before, "an anonymous answer wrote a notification"
    return people, survey, wave, text_q


def _truth(wave: Wave, text_q, people: list[Person]) -> dict[uuid.UUID, int]:
    """Answer key → the person who wrote it (known to the test only, from the planted texts)."""
    by_index = {i: p.pk for i, p in enumerate(people)}
    out = {}
    for row in AnonymousResponse.objects.filter(wave=wave):
        text = json.loads(row.answers)[str(text_q.pk)]
        out[row.key] = by_index[int(text[1:3])]
    assert len(out) == N
    return out


@time_machine.travel(TODAY, tick=False)
def test_it_lets_nobody_line_the_ledger_up_with_the_answers_once_the_wave_is_closed(cast, settings):
    settings.ANONYMITY_MIN_GROUP = K
    people, survey, wave, text_q = _answer_all(cast)
    services.wave_close(actor=cast.secretary_a, wave=wave)
    truth = _truth(wave, text_q, people)
    bound = chance_bound(fixed_points(N))
    for strategy, (ledger_people, authors) in attack(wave, truth).items():
        assert hits(ledger_people, authors) <= bound, f"{strategy}: better than chance"


@time_machine.travel(TODAY, tick=False)
def test_it_narrows_an_answer_to_no_less_than_its_batch_while_the_wave_is_open(cast, settings):
    settings.ANONYMITY_MIN_GROUP = K
    people, survey, wave, text_q = _answer_all(cast)
    assert anon_store.pending("survey", str(wave.pk)) == []  # 40 answers: 8 full batches written
    truth = _truth(wave, text_q, people)
    batches = [Fraction(1)]
    for _ in range(N // K):
        batches = convolve(batches, fixed_points(K))
    bound = chance_bound(batches)
    for strategy, (ledger_people, authors) in attack(wave, truth).items():
        assert hits(ledger_people, authors) <= bound, f"{strategy}: better than chance in a batch"
    # Primary keys are random: no better than a guess over the whole wave, open or not.
    ledger_people, authors = attack(wave, truth)["primary key"]
    assert hits(ledger_people, authors) <= chance_bound(fixed_points(N))


@time_machine.travel(TODAY, tick=False)
def test_the_attack_finds_a_leak_when_the_shuffles_are_switched_off(cast, settings, monkeypatch):
    """Control: answers written in arrival order are matched almost perfectly by the same attack."""
    settings.ANONYMITY_MIN_GROUP = K
    monkeypatch.setattr(anon_store._rng, "shuffle", lambda items: None)
    monkeypatch.setattr(services._rng, "shuffle", lambda items: None)
    people, survey, wave, text_q = _answer_all(cast)
    services.wave_close(actor=cast.secretary_a, wave=wave)
    truth = _truth(wave, text_q, people)
    ledger_people, authors = attack(wave, truth)["physical position (rowid / ctid)"]
    assert hits(ledger_people, authors) > chance_bound(fixed_points(N))


# --- the tables themselves ---------------------------------------------------------------------------


def test_the_answer_table_links_to_no_person_and_holds_no_time_finer_than_the_wave():
    fields = {f.name: f for f in AnonymousResponse._meta.get_fields() if f.concrete}
    assert set(fields) == {"key", "wave", "group", "answers"}
    assert fields["key"].primary_key and isinstance(fields["key"], models.UUIDField)
    assert callable(fields["key"].default)  # a random key, not a sequence
    for field in fields.values():
        assert not isinstance(field, TIME_FIELDS), field.name
        if field.is_relation:
            assert field.related_model is Wave, field.name  # the wave is the finest time it carries
    wave_times = {f.name for f in Wave._meta.get_fields() if f.concrete and isinstance(f, TIME_FIELDS)}
    assert wave_times == {"opens_on", "closes_on"}  # dates of the wave, not of any answer
    assert all(not isinstance(f, models.DateTimeField) for f in Wave._meta.get_fields() if f.concrete)


def test_the_ledger_holds_no_time_and_no_link_to_an_answer():
    fields = {f.name: f for f in AnswerLedger._meta.get_fields() if f.concrete}
    assert set(fields) == {"key", "wave", "person"}
    assert fields["key"].primary_key and isinstance(fields["key"], models.UUIDField)
    assert not any(isinstance(f, TIME_FIELDS) for f in fields.values())
    assert {f.related_model for f in fields.values() if f.is_relation} == {Wave, Person}
