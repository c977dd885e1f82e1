"""Periodic jobs of surveys: waves open and close on schedule, with one reminder before the close.

``insight.waves`` runs daily at 06:00 (the scheduler claims each day once). It
1. closes open waves whose ``closes_on`` has passed (``wave_close``: pending answers written, the
   wave's rows shuffled, the risk scan);
2. starts planned waves whose ``opens_on`` has come (``wave_activate``);
3. opens a wave for each published scheduled survey whose current period (month / quarter / half /
   year) has none yet and which has no wave running — exactly once per period: the period check,
   the survey's row lock and the unique wave number make a second run a no-op;
4. two days before a wave closes, reminds those of its audience who have not answered yet, once
   (``scheduler.remind`` key ``insight:wave:<id>:closing``). Who has answered comes from the
   ledger, which holds no time and no link to any answer.
"""

from __future__ import annotations

import logging
from datetime import time, timedelta

from django.db import IntegrityError
from django.utils import timezone

from sizheng.core.apitools import Conflict
from sizheng.core.models import User
from sizheng.core.scheduler import periodic, remind
from sizheng.insight import groups as reporting
from sizheng.insight import services
from sizheng.insight.models import AnswerLedger, NamedResponse, Schedule, Survey, SurveyState, Wave, WaveState

log = logging.getLogger(__name__)
REMIND_DAYS_BEFORE = 2


def close_due(today) -> int:
    closed = 0
    for wave in Wave.objects.filter(state=WaveState.OPEN, closes_on__lt=today).select_related("survey"):
        try:
            services.wave_close(actor=None, wave=wave)
            closed += 1
        except Conflict:
            continue  # closed by hand meanwhile
    return closed


def start_planned(today) -> int:
    started = 0
    for wave in Wave.objects.filter(state=WaveState.PLANNED, opens_on__lte=today).select_related("survey"):
        if wave.survey.state == SurveyState.PUBLISHED and services.wave_activate(wave=wave):
            started += 1
    return started


def open_scheduled(today) -> int:
    opened = 0
    surveys = Survey.objects.filter(state=SurveyState.PUBLISHED).exclude(schedule=Schedule.ONCE)
    for survey in surveys.select_related("owner_org"):
        period = services.period_of(survey, today)
        if period is None:
            continue
        waves = survey.waves.all()
        if waves.filter(opens_on__gte=period.start, opens_on__lte=period.end).exists():
            continue
        if waves.filter(state__in=[WaveState.OPEN, WaveState.PLANNED]).exists():
            continue  # the previous wave is still running; the next run tries again
        try:
            services.wave_open(actor=None, survey=survey, opens_on=today)
            opened += 1
        except (Conflict, IntegrityError):
            continue
    return opened


def remind_closing(today) -> int:
    sent = 0
    due = today + timedelta(days=REMIND_DAYS_BEFORE)
    for wave in Wave.objects.filter(state=WaveState.OPEN, closes_on=due).select_related("survey"):
        survey = wave.survey
        done = AnswerLedger if survey.is_anonymous else NamedResponse
        answered = done.objects.filter(wave=wave).values("person_id")
        user_ids = (
            reporting.audience(survey)
            .exclude(pk__in=answered)
            .exclude(user__isnull=True)
            .values_list("user_id", flat=True)
        )
        users = list(User.objects.filter(pk__in=list(user_ids), is_active=True))
        if users and remind(
            f"insight:wave:{wave.pk}:closing",
            users,
            title=f"问卷调查即将截止：{survey.title}"[:200],
            body=f"{survey.title}（{wave.label}）将于{wave.closes_on:%Y年%m月%d日}截止，请抽空完成作答。",
            url=services.answer_url(survey),
        ):
            sent += 1
    return sent


@periodic("insight.waves", at=time(6, 0), label="问卷调查轮次开闭")
def waves() -> dict[str, int]:
    """Close due waves, start planned ones, open scheduled ones, remind before the close."""
    today = timezone.localdate()
    result = {
        "closed": close_due(today),
        "started": start_planned(today),
        "opened": open_scheduled(today),
        "reminded": remind_closing(today),
    }
    log.info("insight waves job: %s", result)
    return result
