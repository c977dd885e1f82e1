"""Background tasks (django-tasks): the scheduler enqueues ``run_job`` for each due job."""

from __future__ import annotations

from django_tasks import task

from sizheng.core import scheduler


@task()
def run_job(name: str) -> None:
    """Run a registered periodic job in the worker."""
    scheduler.run(name)
