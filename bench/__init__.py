"""Benchmarks, run by ``make bench`` (``python -m bench``), never by the test suite.

Each module here (not starting with ``_``) has a ``run()`` returning a list of :class:`Result`;
``python -m bench`` runs them all and prints one table. A benchmark measures on demo data built
at a stated scale in a throw-away database, and prints its figures next to a baseline measured
in the same run (raw SQL, raw jieba, …), so the ratio means something on any machine.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_VAR_DIR: Path | None = None


@dataclass(frozen=True)
class Result:
    """One line of the final table: what was measured, at what scale, and the figures."""

    name: str
    scale: str
    figures: str


_STARTED = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr (with the seconds since start), so the table on stdout stays clean."""
    print(f"  {time.perf_counter() - _STARTED:6.1f}s  {message}", file=sys.stderr, flush=True)


def setup_django() -> Path:
    """Django on a throw-away SQLite database in a temporary var dir, migrated (once per process).

    The environment is forced to demo mode on SQLite whatever the caller's shell says, so a bench
    never touches a real database or the project's own ``var/``.
    """
    global _VAR_DIR
    if _VAR_DIR is not None:
        return _VAR_DIR
    tmp = Path(tempfile.mkdtemp(prefix="sizheng-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    for name in ("DATABASE_URL", "SIZHENG_TESTING", "SIZHENG_MEDIA_ROOT", "SIZHENG_STATIC_ROOT"):
        os.environ.pop(name, None)
    os.environ.update(
        SIZHENG_VAR_DIR=str(tmp),
        SIZHENG_MODE="demo",
        SIZHENG_ALLOWED_HOSTS="localhost",
        DJANGO_SETTINGS_MODULE="sizheng.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    # Pages are timed as production serves them: hashed static names from the manifest.
    call_command("collectstatic", verbosity=0, interactive=False)
    _VAR_DIR = tmp
    return tmp


def timed(func: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The median wall time of ``runs`` calls (after one warm-up call) and the last call's result."""
    result = func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
