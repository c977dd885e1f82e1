"""The warming job (``dashboard.warm``): after it runs, every committee card is served from the cache
within the budget of three queries, the same with more orgs; it recomputes values still cached (so
none expires before the next run); one failing card does not keep the others cold; it logs no data.
And the cache it writes to is shared between processes by default (files), which check-deploy says."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache
from django.test import override_settings

from sizheng.core import deploychecks, scheduler
from sizheng.dashboard import cards, jobs
from sizheng.dashboard import metrics as dash_metrics
from sizheng.dashboard.tests.conftest import SH, TODAY, comply_quarter
from sizheng.dashboard.tests.test_queries import WARM_BUDGET, grow

pytestmark = [pytest.mark.django_db, pytest.mark.urls("sizheng.dashboard.tests.urls")]

COMMITTEE = [c.name for c in cards.cards_for("all")]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def card_url(name: str) -> str:
    return f"/dashboard/cards/{name}/?scope=all&year=2026"


def _base(count) -> int:
    count("/__trivial__/")  # the session's first save is not part of the base
    base, response = count("/__trivial__/")
    assert response.status_code == 200
    return base


def _warm_costs(count, django_assert_max_num_queries) -> dict[str, int]:
    """Run the job, then request every committee card: card → queries beyond the trivial page."""
    for name in COMMITTEE:
        count(card_url(name))  # process-wide caches (calendar, content types) are not the cards' cost
    dash_metrics.forget()
    result = scheduler.run("dashboard.warm")
    assert result["failed"] == [] and sorted(result["cards"]) == sorted(COMMITTEE)
    base = _base(count)
    dash_metrics.COMPUTED.clear()
    costs = {}
    for name in COMMITTEE:
        with django_assert_max_num_queries(base + WARM_BUDGET):
            n, response = count(card_url(name))
        assert response.status_code == 200 and "暂时无法加载" not in response.content.decode(), name
        costs[name] = n - base
    assert dash_metrics.COMPUTED == []  # every value came from the warmed cache
    return costs


def test_after_the_job_every_committee_card_costs_at_most_three_queries_flat(
    cast, client, count, django_assert_max_num_queries
):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    grow(cast, 2)
    small = _warm_costs(count, django_assert_max_num_queries)
    grow(cast, 8)
    large = _warm_costs(count, django_assert_max_num_queries)
    print(f"\n预热后每张卡片比基础页面多出的查询数（2 → 10 个新增组织）：{small} → {large}")
    assert small == large
    assert all(n <= WARM_BUDGET for n in small.values())


def test_the_job_is_registered_more_often_than_values_expire():
    job = scheduler.JOBS["dashboard.warm"]
    assert job.every == jobs.WARM_EVERY and job.label
    assert jobs.WARM_EVERY.total_seconds() < dash_metrics.ttl()
    assert jobs.warm_timeout() == dash_metrics.ttl() + jobs.WARM_EVERY.total_seconds()


def test_the_scheduler_runs_it_once_per_slot():
    at = datetime(2026, 7, 15, 10, 1, tzinfo=SH)
    assert "dashboard.warm" in scheduler.tick(at)  # the test task backend runs it at once
    assert "dashboard.warm" not in scheduler.tick(at + timedelta(seconds=30))  # same slot
    assert "dashboard.warm" in scheduler.tick(at + jobs.WARM_EVERY)


def test_a_second_run_recomputes_what_is_still_cached(cast):
    jobs.warm()
    first = sorted(dash_metrics.COMPUTED)
    assert ("life.compliance_rate", "2026-Q2") in first and ("assess.rounds", "") in first
    dash_metrics.COMPUTED.clear()
    jobs.warm()  # idempotent: the same values, computed afresh so none expires before the next run
    assert sorted(dash_metrics.COMPUTED) == first
    dash_metrics.COMPUTED.clear()
    ctx = cards.context_for(cast.committee_admin, "all")
    cards.CARDS["compliance"].build(ctx)
    assert dash_metrics.COMPUTED == []  # outside the job the cache is read as usual


def test_warmed_values_outlive_the_cache_time_by_one_interval(cast, monkeypatch):
    timeouts = []
    set_many = cache.set_many
    monkeypatch.setattr(
        cache, "set_many", lambda data, timeout=None: (timeouts.append(timeout), set_many(data, timeout))[1]
    )
    jobs.warm()
    assert timeouts and set(timeouts) == {jobs.warm_timeout()}
    timeouts.clear()
    dash_metrics.forget()
    cards.CARDS["compliance"].build(cards.context_for(cast.committee_admin, "all"))
    assert set(timeouts) == {dash_metrics.ttl()}  # a request's own values keep the cache time


def test_a_failing_card_does_not_stop_the_others(
    cast, client, count, monkeypatch, caplog, django_assert_max_num_queries
):
    def boom(ctx):
        quoted = "王建国的数据"  # what a message might carry: it must not reach the log
        raise RuntimeError(quoted)

    monkeypatch.setitem(cards.CARDS, "talks", dataclasses.replace(cards.CARDS["talks"], build=boom))
    client.force_login(cast.committee_admin)
    with caplog.at_level(logging.INFO, logger="sizheng.dashboard.jobs"):
        result = jobs.warm()
    assert result["failed"] == ["talks"]
    assert sorted(result["cards"]) == sorted(set(COMMITTEE) - {"talks"})
    messages = [r.getMessage() for r in caplog.records]
    assert any("card talks failed (RuntimeError)" in m for m in messages)
    assert any("5 cards in" in m and "failed: talks" in m for m in messages)
    assert "王建国" not in caplog.text and "jobs.py" in caplog.text  # the frames, not the message
    base = _base(count)
    dash_metrics.COMPUTED.clear()
    for name in ("compliance", "duties", "care", "insight", "assess"):
        with django_assert_max_num_queries(base + WARM_BUDGET):
            count(card_url(name))
    assert dash_metrics.COMPUTED == []


def test_the_log_names_cards_and_durations_only(cast, caplog):
    with caplog.at_level(logging.INFO, logger="sizheng.dashboard.jobs"):
        jobs.warm()
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sizheng.dashboard.jobs"]
    assert line.startswith("dashboard warm: 6 cards in ") and line.endswith(" s")


# --- the shared cache --------------------------------------------------------------------------------


def test_values_warmed_in_one_process_are_read_from_files_by_another(
    cast, client, count, tmp_path, django_assert_max_num_queries
):
    """The default cache outside tests: files under VAR_DIR/cache. What the job (task worker) writes, a
    web worker reads: here a second FileBasedCache on the same directory stands for the other process."""
    location = str(tmp_path / "cache")
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": location}
    }
    client.force_login(cast.committee_admin)
    with override_settings(CACHES=caches):
        for name in COMMITTEE:
            count(card_url(name))
        dash_metrics.forget()
        jobs.warm()
        other = FileBasedCache(location, {})
        generation = other.get(dash_metrics.GENERATION_KEY)
        assert generation and other.get(f"{dash_metrics.KEY_PREFIX}:{generation}:assess.rounds") is not None
        base = _base(count)
        dash_metrics.COMPUTED.clear()
        for name in COMMITTEE:
            with django_assert_max_num_queries(base + WARM_BUDGET):
                count(card_url(name))
        assert dash_metrics.COMPUTED == []


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("SIZHENG_WEB_WORKERS", "5")


def _cache_finding():
    finding = deploychecks.check_cache()
    assert finding.title == "缓存" and deploychecks.check_cache in deploychecks.CHECKS
    return finding


def test_check_deploy_accepts_the_file_cache_on_one_machine(production, tmp_path):
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with override_settings(CACHES=caches):
        finding = _cache_finding()
    assert finding.level == deploychecks.OK
    assert "FileBasedCache" in finding.message and "5 个网站工作进程、任务进程和调度器共享" in finding.message
    assert "多台网站机器时请改为 SIZHENG_CACHE=db" in finding.message


def test_check_deploy_warns_about_an_unwritable_file_cache(production, tmp_path, monkeypatch):
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "var" / "cache"),
        }
    }
    seen = []

    def no_write(path, mode):  # the checks run as root here, who may write anywhere
        seen.append(str(path))
        return False

    with override_settings(CACHES=caches):
        monkeypatch.setattr(deploychecks.os, "access", no_write)
        finding = _cache_finding()
        monkeypatch.undo()
    assert seen == [str(tmp_path)]  # the nearest existing directory: the cache is created below it
    assert finding.level == deploychecks.WARNING and "不可写" in finding.message
    assert "$SIZHENG_VAR_DIR/cache" in finding.hint


def test_check_deploy_warns_about_per_process_memory_even_with_one_web_worker(monkeypatch):
    monkeypatch.setenv("SIZHENG_WEB_WORKERS", "1")
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        finding = _cache_finding()
    assert finding.level == deploychecks.WARNING
    assert "任务进程预热的驾驶舱数据" in finding.message and finding.hint.startswith("请不设置 SIZHENG_CACHE")


def test_check_deploy_warns_about_a_per_machine_file_cache_when_uploads_are_on_object_storage(
    production, tmp_path
):
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with override_settings(CACHES=caches, MEDIA_STORAGE="s3"):
        finding = _cache_finding()
    assert finding.level == deploychecks.WARNING and "每台机器各有一份" in finding.message
    assert "SIZHENG_CACHE=db" in finding.hint
