"""``make run``'s serve command: web, worker and scheduler come up; Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, budget: float = 120.0) -> urllib.request.http.client.HTTPResponse:
    """Poll until the server answers (start-up includes migrations and the demo)."""
    deadline = time.monotonic() + budget
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)  # noqa: S310 (loopback only)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="serve 演示 SQLite 默认配置"
)
def test_it_serves_the_login_page_with_worker_and_scheduler_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL", "PYTEST"))}
    env.update(SIZHENG_VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "sizheng",
            "serve",
            "--port",
            str(port),
            "--demo-scale",
            "0.05",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        body = response.read().decode()
        assert "登录" in body
        assert "'nonce-" in response.headers["Content-Security-Policy"]
        assert 'src="http' not in body and 'href="http' not in body
        children = psutil.Process(proc.pid).children(recursive=True)
        commands = " ".join(" ".join(c.cmdline()) for c in children)
        assert "gunicorn" in commands and "db_worker" in commands and "run_scheduler" in commands
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "已停止网站、任务进程和调度器" in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
