"""Pytest plugin for browser tests: Playwright driving Debian's chromium against ``live_server``.

Loaded from the root ``conftest.py`` (``pytest_plugins``). Fixtures:

- ``browser`` (session): headless chromium at ``$SIZHENG_CHROMIUM`` (default ``/usr/bin/chromium``);
  skipped when missing, a failure when ``SIZHENG_REQUIRE_BROWSER=1`` (CI).
- ``page``: a fresh context on ``live_server`` (``page.goto("/accounts/login/")`` works, the base
  URL is set); console errors, page errors and any request to another host are recorded, the
  external request is aborted before it reaches the network, and the test fails if anything was
  recorded. ``page_recorder`` gives the recorder itself.
- ``login_as(user_or_username, *, password=None, via_form=False, next_url="/")``: a logged-in
  ``page`` (session cookie by default; the real login form when ``via_form=True``).
- ``screenshot(page, name)`` (a plain function): a PNG under ``test-artifacts/screenshots/``.

Every browser test is marked ``@pytest.mark.browser``; the plugin adds
``django_db(transaction=True)`` to it (the live server reads the test's data from another
thread — so rows loaded by data migrations are gone after the first transactional flush: a test
that needs them installs them, e.g. ``life.services.compliance_rules_install_defaults()``) and runs browser tests after the others, because Playwright's sync API keeps an
asyncio loop running in the thread, which ``async_to_sync`` refuses to share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Response, Route

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
VIEWPORT = {"width": 1366, "height": 768}
# Fail fast instead of Playwright's 30 s: a page of this app renders in well under a second.
DEFAULT_TIMEOUT_MS = 10_000
MISSING_BROWSER = "未找到 chromium，浏览器测试已跳过（设置 SIZHENG_CHROMIUM 或安装 Debian 的 chromium 包）"
BROWSER_FIXTURES = frozenset({"browser", "page", "page_recorder", "login_as", "_browser_playwright"})
# Schemes that never leave the browser, so they are not "requests to another host".
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-error"})
# Requests whose HTTP status is the app's answer, asserted by the test (see PageRecorder).
ANSWER_TYPES = frozenset({"document", "xhr", "fetch"})
STATUS_MESSAGE = re.compile(r"Failed to load resource: the server responded with a status of [1-4]\d\d\b")

RECORDER_KEY = pytest.StashKey["PageRecorder"]()


@dataclass
class PageRecorder:
    """What a page did that a test must not allow: console errors, page errors, external requests.

    Chromium logs "Failed to load resource: … status of 4xx" for every non-2xx response. For a
    document or an XHR/fetch (htmx) that status is the app's deliberate answer (403, 404, 422
    re-rendered forms) and the test asserts on it; for a stylesheet, script, image or font it is
    a broken page, so only those count. Any 5xx response counts, whatever its kind.
    """

    origin: str
    console_entries: list[tuple[str, str, int]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    answered_urls: set[str] = field(default_factory=set)

    def is_internal(self, url: str) -> bool:
        """Whether the URL stays inside the browser or on the live server (scheme, host and port)."""
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        origin = urlsplit(self.origin)
        if parts.scheme in {"ws", "wss"}:
            return parts.netloc == origin.netloc
        return parts.scheme == origin.scheme and parts.netloc == origin.netloc

    def on_console(self, message: ConsoleMessage) -> None:
        """Record console messages of type error, with where they came from."""
        if message.type == "error":
            location = message.location or {}
            self.console_entries.append(
                (message.text, location.get("url", ""), location.get("lineNumber", 0))
            )

    def on_page_error(self, error: Exception) -> None:
        """Record an uncaught JavaScript exception."""
        self.page_errors.append(str(error))

    def on_response(self, response: Response) -> None:
        """Remember documents and XHR/fetch answers; record any 5xx."""
        request = response.request
        if request.resource_type in ANSWER_TYPES:
            self.answered_urls.add(response.url)
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {request.method} {response.url}")

    @property
    def console_errors(self) -> list[str]:
        """Console errors that count, each with the URL and line it came from."""
        errors = []
        for text, url, line in self.console_entries:
            if STATUS_MESSAGE.match(text) and url in self.answered_urls:
                continue
            errors.append(f"{text}（{url}:{line}）" if url else text)
        return errors

    def problems(self) -> list[str]:
        """Every recorded problem as one line each, in a stable order."""
        return (
            [f"控制台错误：{text}" for text in self.console_errors]
            + [f"页面脚本错误：{text}" for text in self.page_errors]
            + [f"对外部地址的请求（已拦截）：{url}" for url in self.external_requests]
            + [f"服务器错误：{line}" for line in self.server_errors]
        )

    def check(self) -> None:
        """Fail the running test if anything was recorded."""
        problems = self.problems()
        if problems:
            listing = "\n".join(f"  - {line}" for line in problems)
            pytest.fail(f"浏览器测试期间页面出现了 {len(problems)} 个问题：\n{listing}", pytrace=False)

    def clear(self) -> None:
        """Forget everything recorded so far (for tests that provoke problems on purpose)."""
        self.console_entries.clear()
        self.page_errors.clear()
        self.external_requests.clear()
        self.server_errors.clear()


def _chromium_path() -> str:
    """The chromium executable the tests drive; never one Playwright would download."""
    return os.environ.get("SIZHENG_CHROMIUM", "/usr/bin/chromium")


def _no_browser(reason: str) -> None:
    """Skip (a laptop without chromium), or fail when the browser is required (CI)."""
    from sizheng.core.testing import skip_unless_required  # not at import: this plugin loads before Django

    skip_unless_required("SIZHENG_REQUIRE_BROWSER", reason)


def _artifacts_dir() -> Path:
    """``test-artifacts/screenshots`` at the repository root (git-ignored)."""
    from django.conf import settings

    return Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"


def _current_test_name() -> str:
    """The running test's name, safe for a file name (from ``PYTEST_CURRENT_TEST``)."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "unknown-test")
    node = current.rsplit(" ", 1)[0].split("::")[-1]
    return re.sub(r"[^\w.-]+", "_", node).strip("_") or "unknown-test"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of the page as ``test-artifacts/screenshots/<test-name>-<name>.png``."""
    folder = _artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", name).strip("_") or "page"
    path = folder / f"{_current_test_name()}-{safe_name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --- hooks ---------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give browser tests a transactional DB and move them after all other tests.

    Last, so pytest-django's own reordering (by kind of database access) comes first.
    """
    browser_items = []
    other_items = []
    for item in items:
        if item.get_closest_marker("browser") is None:
            other_items.append(item)
            continue
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))
        browser_items.append(item)
    # Stable partition, identical on every xdist worker, so the schedule stays consistent.
    items[:] = other_items + browser_items


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Refuse a test that drives the browser without the ``browser`` mark (CI deselects by it)."""
    used = {
        name for name in BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())) if name[0] != "_"
    }
    if used and item.get_closest_marker("browser") is None:
        pytest.fail(
            f"该测试使用了浏览器夹具（{', '.join(sorted(used))}），必须加上 @pytest.mark.browser 标记。",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a passing test whose page recorded a problem; list them beside a failing one."""
    try:
        result = yield
    except BaseException:
        recorder = item.stash.get(RECORDER_KEY, None)
        if recorder is not None and recorder.problems():
            item.add_report_section("call", "浏览器", "\n".join(recorder.problems()))
            recorder.clear()
        raise
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        try:
            recorder.check()
        finally:
            # Reported once; the teardown check only catches what arrives later.
            recorder.clear()
    return result


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _browser_playwright() -> Iterator[Playwright]:
    """One Playwright driver per test process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        _no_browser("未安装 Python 包 playwright，浏览器测试已跳过（运行 make setup-dev）")
    if not os.access(_chromium_path(), os.X_OK):
        _no_browser(MISSING_BROWSER)
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(_browser_playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian chromium, launched once per test process."""
    launched = _browser_playwright.chromium.launch(
        executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page_recorder(live_server: Any) -> PageRecorder:
    """The recorder of the current test's page (see ``PageRecorder``)."""
    return PageRecorder(origin=live_server.url)


@pytest.fixture
def _browser_context(
    browser: Browser, live_server: Any, page_recorder: PageRecorder
) -> Iterator[BrowserContext]:
    """A fresh browser context bound to the live server; every other host is aborted."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        service_workers="block",
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)

    def guard(route: Route) -> None:
        """Let the live server through; abort anything else before any network I/O."""
        url = route.request.url
        if page_recorder.is_internal(url):
            route.continue_()
        else:
            page_recorder.external_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.route_web_socket(re.compile(r".*"), _websocket_guard(page_recorder))
    try:
        yield context
    finally:
        context.close()


def _websocket_guard(recorder: PageRecorder) -> Callable[[Any], None]:
    """A web-socket route handler with the same rule as the HTTP one."""

    def handle(ws: Any) -> None:
        """Connect same-origin sockets; close and record the others."""
        if recorder.is_internal(ws.url):
            ws.connect_to_server()
        else:
            recorder.external_requests.append(ws.url)
            ws.close()

    return handle


@pytest.fixture
def page(
    request: pytest.FixtureRequest, _browser_context: BrowserContext, page_recorder: PageRecorder
) -> Iterator[Page]:
    """A page on the live server that fails the test on console errors or external requests."""
    new_page = _browser_context.new_page()
    new_page.on("console", page_recorder.on_console)
    new_page.on("pageerror", page_recorder.on_page_error)
    new_page.on("response", page_recorder.on_response)
    request.node.stash[RECORDER_KEY] = page_recorder
    yield new_page
    # Whatever arrived after the body finished (the call-phase check already cleared the rest).
    page_recorder.check()


@pytest.fixture
def login_as(page: Page, live_server: Any, _browser_context: BrowserContext) -> Callable[..., Page]:
    """Log a user into ``page``: by session cookie (fast) or through the login form (``via_form``)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    def login(
        user_or_username: Any, *, password: str | None = None, via_form: bool = False, next_url: str = "/"
    ) -> Page:
        """Log in and open ``next_url`` (the form path lands wherever the login view redirects)."""
        user_model = get_user_model()
        if isinstance(user_or_username, str):
            user = user_model._default_manager.get_by_natural_key(user_or_username)
        else:
            user = user_or_username
        if via_form:
            if password is None:
                raise ValueError("通过登录表单登录时必须提供 password。")
            return _login_through_form(page, user.get_username(), password)
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        _browser_context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        page.goto(next_url)
        return page

    return login


def _login_through_form(page: Page, username: str, password: str) -> Page:
    """Fill and submit the real login form; fail clearly when the login page comes back."""
    from django.conf import settings

    login_path = str(settings.LOGIN_URL)
    page.goto(login_path)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    form = page.locator("form", has=page.locator("#id_password"))
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()
    if urlsplit(page.url).path == login_path:
        pytest.fail(f"以 {username} 登录失败：提交登录表单后仍停留在登录页。", pytrace=False)
    return page
