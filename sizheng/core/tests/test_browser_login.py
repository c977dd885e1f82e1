"""Browser tests of the login page, and self-tests of the browser harness (sizheng.core.tests.browser)."""

import re

import pytest
from playwright.sync_api import expect

from sizheng.core.tests.browser import PageRecorder, screenshot

PASSWORD = "Pw-Sizheng-2026"


@pytest.mark.browser
def test_it_shows_the_login_page_in_chinese(page):
    """The login page renders in Chinese with its form, from the live server only."""
    page.goto("/accounts/login/")

    expect(page.get_by_text("登录").filter(visible=True).first).to_be_visible()
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("#id_password")).to_be_visible()
    assert screenshot(page, "login").is_file()


@pytest.mark.browser
def test_it_logs_in_through_the_form(login_as, django_user_model):
    """A user who submits the real login form lands on the home page, logged in."""
    django_user_model.objects.create_user(username="u1", password=PASSWORD)

    page = login_as("u1", password=PASSWORD, via_form=True)

    assert re.sub(r"^https?://[^/]+", "", page.url) == "/"
    expect(page.locator("body")).to_contain_text(re.compile(r"退出|u1"))
    screenshot(page, "home")


@pytest.mark.browser
def test_it_logs_in_by_session_cookie(login_as, django_user_model):
    """The fast path (a session cookie from force_login) opens a page as that user."""
    user = django_user_model.objects.create_user(username="u2", password=PASSWORD)

    page = login_as(user)

    assert "/accounts/login/" not in page.url
    expect(page.locator("body")).to_contain_text(re.compile(r"退出|u2"))


@pytest.mark.browser
def test_it_refuses_a_wrong_password_on_the_form_path(login_as, django_user_model):
    """The form path fails loudly when the login page comes back instead of a redirect."""
    django_user_model.objects.create_user(username="u3", password=PASSWORD)

    with pytest.raises(pytest.fail.Exception, match="登录失败"):
        login_as("u3", password="not-the-password", via_form=True)


@pytest.mark.browser
def test_it_aborts_and_records_requests_to_other_hosts(page, page_recorder):
    """An image on another host is aborted (never fetched), recorded, and would fail the test."""
    # A page on the live server's origin without the app's CSP (which would block the image
    # before the harness sees it), answered by Playwright itself: nothing touches the network.
    page.route(
        "**/harness-self-test/",
        lambda route: route.fulfill(
            content_type="text/html; charset=utf-8",
            body='<!doctype html><img src="http://203.0.113.1/x.png" alt="">',
        ),
    )
    page.goto("/harness-self-test/")

    assert page_recorder.external_requests == ["http://203.0.113.1/x.png"]
    with pytest.raises(
        pytest.fail.Exception, match=r"对外部地址的请求（已拦截）：http://203\.0\.113\.1/x\.png"
    ):
        page_recorder.check()
    page_recorder.clear()
    page_recorder.check()


@pytest.mark.browser
def test_it_reports_what_the_content_security_policy_blocks(page, page_recorder):
    """On an app page the CSP blocks the external image first, and that console error is reported."""
    page.goto("/accounts/login/")

    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate(
            "() => { const i = document.createElement('img');"
            " i.src = 'http://203.0.113.1/y.png'; document.body.append(i); }"
        )

    with pytest.raises(pytest.fail.Exception, match=r"203\.0\.113\.1/y\.png"):
        page_recorder.check()
    page_recorder.clear()


@pytest.mark.browser
def test_it_records_console_errors_and_uncaught_exceptions(page, page_recorder):
    """A console.error and an uncaught exception are both recorded and reported."""
    page.goto("/accounts/login/")

    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate("console.error('测试用控制台错误')")
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('测试用脚本异常'); }, 0)")

    assert any("测试用控制台错误" in text for text in page_recorder.console_errors)
    assert any("测试用脚本异常" in text for text in page_recorder.page_errors)
    with pytest.raises(pytest.fail.Exception, match="控制台错误"):
        page_recorder.check()
    page_recorder.clear()


@pytest.mark.parametrize(
    ("url", "internal"),
    [
        ("http://localhost:8123/static/app.css", True),
        ("ws://localhost:8123/ws", True),
        ("data:image/png;base64,AAAA", True),
        ("about:blank", True),
        ("http://localhost:8124/static/app.css", False),
        ("https://localhost:8123/", False),
        ("http://127.0.0.1:8123/", False),
        ("https://cdn.jsdelivr.net/npm/htmx.org", False),
        ("wss://example.invalid/socket", False),
    ],
)
def test_it_tells_the_live_server_from_other_hosts(url, internal):
    """Only the live server's scheme, host and port (and browser-local schemes) count as internal."""
    assert PageRecorder(origin="http://localhost:8123").is_internal(url) is internal


def test_it_ignores_statuses_of_documents_but_not_of_stylesheets():
    """A 422 re-rendered form is the app's answer; a 404 stylesheet is a broken page."""
    recorder = PageRecorder(origin="http://localhost:8123")
    recorder.answered_urls.add("http://localhost:8123/accounts/login/")
    status = "Failed to load resource: the server responded with a status of {}"
    recorder.console_entries += [
        (status.format("422 (Unprocessable Entity)"), "http://localhost:8123/accounts/login/", 0),
        (status.format("404 (Not Found)"), "http://localhost:8123/static/x.css", 0),
        ("Uncaught TypeError: x is undefined", "http://localhost:8123/accounts/login/", 3),
    ]

    assert recorder.console_errors == [
        status.format("404 (Not Found)") + "（http://localhost:8123/static/x.css:0）",
        "Uncaught TypeError: x is undefined（http://localhost:8123/accounts/login/:3）",
    ]
    with pytest.raises(pytest.fail.Exception, match="2 个问题"):
        recorder.check()
