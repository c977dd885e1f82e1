"""Fixtures of the end-to-end journeys (see ``e2e/README.md``).

The journeys run on a **small demo** (``core.demo.run_all`` at ``SCALE``), built once per test
process in the in-memory test database and snapshotted with SQLite's online-backup API (the
database is then put back as it was, so the rest of the suite never sees the demo). Every journey
gets a fresh file copy of that snapshot (a few milliseconds) which the test and the live server
open on their own connections, like production (see ``demo``). On another database the demo is
built for each journey instead (slow, but correct).

Everything else comes from the project's Playwright harness (``sizheng/core/tests/browser.py``):
a page that fails the test on a console error, an uncaught script error, a 5xx or any request to
another host. ``Journey`` adds what every journey does on each page: the status, no horizontal
overflow of the page body, and screenshots (the guide's, ``docs/guide/img/``, only when
``SIZHENG_E2E_GUIDE=1``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sizheng.core.tests.browser import DEFAULT_TIMEOUT_MS, RECORDER_KEY, screenshot

SCALE = 0.05
SEED = 2026
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Sizheng@2026"
DEFAULT_DB = "default"
GUIDE_DIR = Path(__file__).resolve().parent.parent / "docs" / "guide" / "img"
GUIDE_MAX_BYTES = 150 * 1024


def guide_enabled() -> bool:
    """Whether this run refreshes the user guide's screenshots (``SIZHENG_E2E_GUIDE=1``)."""
    return os.environ.get("SIZHENG_E2E_GUIDE", "").strip() in {"1", "true", "yes"}


# --- the demo, once per process ---------------------------------------------------------------


@dataclass
class DemoSnapshot:
    """The demo database (SQLite) or ``None`` where the demo is rebuilt for every journey."""

    connection: sqlite3.Connection | None
    media_root: Path


def _build_demo() -> None:
    """Reload the data migrations' rows (a transactional flush removed them), then the demo."""
    from sizheng.core import demo

    _reload_data_migrations()
    demo.run_all(scale=SCALE, seed=SEED, log=lambda _message: None)


def _reload_data_migrations() -> None:
    """Run every ``RunPython`` of the project's migrations again (they are idempotent loaders)."""
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        migration = loader.disk_migrations[key]
        if not type(migration).__module__.startswith("sizheng."):
            continue
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)


def _raw_sqlite(connection: Any) -> sqlite3.Connection:
    connection.ensure_connection()
    return connection.connection


@pytest.fixture(scope="session")
def _e2e_demo(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[DemoSnapshot]:
    """Build the small demo once and keep a copy; leave the database as it was found."""
    from django.db import connection
    from django.test import override_settings

    media_root = tmp_path_factory.mktemp("e2e-media")
    if connection.vendor != "sqlite":
        yield DemoSnapshot(connection=None, media_root=media_root)
        return
    with django_db_blocker.unblock(), override_settings(DEMO=True, MEDIA_ROOT=media_root):
        raw = _raw_sqlite(connection)
        before = sqlite3.connect(":memory:", check_same_thread=False)
        raw.backup(before)
        try:
            _build_demo()
            snapshot = sqlite3.connect(":memory:", check_same_thread=False)
            raw.backup(snapshot)
        finally:
            before.backup(raw)  # the rest of the suite never sees the demo
            before.close()
    try:
        yield DemoSnapshot(connection=snapshot, media_root=media_root)
    finally:
        snapshot.close()


@dataclass
class Demo:
    """The restored demo: look-ups by demo account."""

    media_root: Path

    def user(self, username: str) -> Any:
        from sizheng.core.models import User

        return User.objects.get(username=username)

    def person(self, username: str) -> Any:
        from sizheng.org.models import Person

        return Person.objects.select_related("org", "unit").get(user__username=username)


@pytest.fixture
def demo(_e2e_demo: DemoSnapshot, transactional_db: Any, settings: Any, tmp_path: Path) -> Iterator[Demo]:
    """The small demo, fresh for this journey, in its own SQLite file.

    The project's test database is SQLite in memory, which Django's live server shares with the
    test as **one** connection across threads; the htmx pages (the dashboard loads its cards in
    parallel) then run queries on it from several threads at once, and SQLite's Python functions
    deadlock them. So a journey runs on a file copy of the demo that every thread opens on its
    own connection, as in production (WAL, immediate transactions); the in-memory database is
    left alone and given back afterwards.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    settings.DEMO = True
    settings.MEDIA_ROOT = _e2e_demo.media_root
    if _e2e_demo.connection is None:
        _build_demo()
        yield Demo(media_root=_e2e_demo.media_root)
        return
    path = tmp_path / "e2e-demo.sqlite3"
    target = sqlite3.connect(path)
    _e2e_demo.connection.backup(target)
    target.close()
    memory_settings = connections.settings[DEFAULT_DB]
    memory_connection = connections[DEFAULT_DB]
    connections.settings[DEFAULT_DB] = {**memory_settings, "NAME": str(path)}
    file_connection = connections.create_connection(DEFAULT_DB)
    connections[DEFAULT_DB] = file_connection
    ContentType.objects.clear_cache()
    try:
        yield Demo(media_root=_e2e_demo.media_root)
    finally:
        file_connection.close()
        connections[DEFAULT_DB] = memory_connection
        connections.settings[DEFAULT_DB] = memory_settings
        ContentType.objects.clear_cache()


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server, but with no connection shared with the test (see ``demo``)."""
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.connections_override = {}
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ensure_pending_survey(demo: Demo, username: str = "dangyuan") -> None:
    """Make sure ``username`` has a survey to answer: the demo's current wave, else a new one.

    The demo's open waves are drawn relative to today, so on some days the member has already
    answered them; then the branch secretary publishes a 思想动态调查 for the branch.
    """
    from sizheng.insight import services
    from sizheng.insight.models import Hierarchy, SurveyMode, Template

    user = demo.user(username)
    if any(not row["answered"] for row in services.my_open_waves(user)):
        return
    secretary = demo.user("shuji_a")
    survey = services.survey_create(
        actor=secretary, owner_org=demo.person(username).org, title="支部干部职工思想动态调查",
        template=Template.THOUGHT, mode=SurveyMode.ANONYMOUS, hierarchy=Hierarchy.ORG,
    )  # fmt: skip
    services.survey_publish(actor=secretary, survey=survey, version=survey.version)


# --- the journey helper ----------------------------------------------------------------------


@dataclass
class Journey:
    """One persona's walk through the app on one ``page``, at one viewport."""

    page: Any
    role: str
    viewport: dict = field(default_factory=lambda: dict(DESKTOP))
    visited: list[str] = field(default_factory=list)

    @property
    def phone(self) -> bool:
        return self.viewport["width"] < 600

    def visit(self, url: str, *, status: int = 200, heading: str | None = None) -> Any:
        """Open ``url``; check the status, the heading and that the body does not scroll sideways."""
        response = self.page.goto(url)
        assert response is not None, url
        assert response.status == status, f"{url} 返回 {response.status}，应为 {status}"
        self.page.wait_for_load_state()
        self.visited.append(url)
        if heading is not None:
            self.expect_heading(heading)
        self.check_layout()
        return response

    def refused(self, url: str) -> None:
        """A page outside this role: 403 (visible but not allowed) or 404 (outside the scope)."""
        response = self.page.goto(url)
        assert response is not None and response.status in (403, 404), (
            f"{self.role} 打开 {url} 应被拒绝（403/404），实际 {response and response.status}"
        )

    def expect_heading(self, text: str) -> None:
        """The page's title (``<title>``, which names the page like its heading) contains ``text``."""
        from playwright.sync_api import expect

        expect(self.page).to_have_title(re.compile(re.escape(text)))

    def optional(self, url: str, *, heading: str | None = None) -> bool:
        """Open a page that must answer 200 (dashboard, notices, search) and check it; returns True."""
        response = self.page.goto(url)
        assert response is not None, url
        assert response.status == 200, f"{url} 返回 {response.status}"
        self.page.wait_for_load_state("networkidle")  # the dashboard's cards arrive by htmx
        self.visited.append(url)
        if heading is not None:
            self.expect_heading(heading)
        self.check_layout()
        return True

    def check_layout(self) -> None:
        """No horizontal overflow of the page body at this viewport."""
        widths = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (
            f"{self.page.url} 在 {self.viewport['width']}×{self.viewport['height']} 下横向溢出："
            f"页面宽 {widths[0]}px，窗口宽 {widths[1]}px"
        )

    def submit(self, name: str, *, exact: bool = True) -> None:
        """Click a submit button by its text and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=name, exact=exact).first.click()
        self.page.wait_for_load_state()
        self.check_layout()

    def shot(self, name: str, *, guide: bool = False) -> Path:
        """A full-page PNG under test-artifacts/; with ``guide`` also the guide's 1366×768 image."""
        self.page.wait_for_load_state("networkidle")  # htmx parts (dashboard cards) are in
        label = f"{self.role}-{'phone' if self.phone else 'desktop'}-{name}"
        path = screenshot(self.page, label)
        if guide and not self.phone and guide_enabled():
            save_guide_image(self.page, f"{self.role}-{name}")
        return path


def save_guide_image(page: Any, name: str) -> Path:
    """``docs/guide/img/<name>.png``: the 1366×768 viewport, quantised to stay small."""
    GUIDE_DIR.mkdir(parents=True, exist_ok=True)
    path = GUIDE_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    optimise_png(path)
    return path


def optimise_png(path: Path) -> None:
    """Quantise to a palette (pngquant when installed, else Pillow); warn above the size budget."""
    import shutil
    import subprocess

    pngquant = shutil.which("pngquant")
    if pngquant:
        subprocess.run(  # noqa: S603 (a fixed local tool on a file we just wrote)
            [pngquant, "--force", "--skip-if-larger", "--strip", "--output", str(path), "128", str(path)],
            check=False,
        )
    else:
        from PIL import Image

        with Image.open(path) as image:
            quantised = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        quantised.save(path, optimize=True)
    size = path.stat().st_size
    if size > GUIDE_MAX_BYTES:
        print(f"[e2e] 指南截图 {path.name} 有 {size // 1024} KB，超过 150 KB。", file=sys.stderr)


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def journey(demo: Demo, login_as: Callable[..., Any], page: Any) -> Callable[..., Journey]:
    """``journey(username, viewport=DESKTOP, next_url="/")``: a logged-in page and its ``Journey``."""

    def start(username: str, *, viewport: dict | None = None, next_url: str = "/") -> Journey:
        size = dict(viewport or DESKTOP)
        page.set_viewport_size(size)
        login_as(username, next_url=next_url)
        return Journey(page=page, role=username, viewport=size)

    return start


@pytest.fixture
def nojs_page(
    request: pytest.FixtureRequest, browser: Any, live_server: Any, page_recorder: Any, demo: Demo
) -> Iterator[Callable[[str], Any]]:
    """``nojs_page(username)``: a logged-in page with JavaScript disabled, under the harness's guard."""
    from django.conf import settings
    from django.test import Client

    contexts: list[Any] = []

    def open_page(username: str) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=DESKTOP,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            java_script_enabled=False,
            service_workers="block",
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)

        def guard(route: Any) -> None:
            if page_recorder.is_internal(route.request.url):
                route.continue_()
            else:
                page_recorder.external_requests.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        client = Client()
        client.force_login(demo.user(username))
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        new_page = context.new_page()
        new_page.on("console", page_recorder.on_console)
        new_page.on("pageerror", page_recorder.on_page_error)
        new_page.on("response", page_recorder.on_response)
        request.node.stash[RECORDER_KEY] = page_recorder
        return new_page

    yield open_page
    for context in contexts:
        context.close()
    page_recorder.check()


def text_of(page: Any) -> str:
    """The main content's text, whitespace collapsed (for assertions on figures)."""
    return re.sub(r"\s+", " ", page.locator("main").inner_text())
