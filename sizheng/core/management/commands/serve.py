"""``python -m sizheng serve`` (what ``make run`` calls): set up, then run web, worker and scheduler.

Migrates, generates the demo data on first run (demo mode), collects static files, then
starts gunicorn, one db_worker and the scheduler, and stops all three on Ctrl-C.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sizheng.core import demo

ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


class Command(BaseCommand):
    help = "一条命令启动平台：迁移数据库、首次生成演示数据、收集静态文件，然后启动网站、任务进程和调度器。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("SIZHENG_WEB_WORKERS", "2")))
        parser.add_argument("--demo-scale", type=float, default=1.0, help="首次生成演示数据的规模")

    def handle(self, *args, host, port, workers, demo_scale, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)  # only acts when SIZHENG_CACHE=db
        self.stdout.write("数据库已就绪。")
        if settings.DEMO:
            call_command("demo", if_empty=True, scale=demo_scale)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sizheng.settings"}
        procs = {
            "网站": [
                python,
                "-m",
                "gunicorn",
                "sizheng.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                # The path without the query string: searches and list filters (?q=…) may hold names
                # or an ID number, which have no place in an access log.
                "--access-logformat",
                ACCESS_LOG_FORMAT,
                "--graceful-timeout",
                "5",
                "--no-control-socket",  # nothing written to the home directory
            ],
            "任务进程": [python, "-m", "sizheng", "db_worker", "--queue-name", "default"],
            "调度器": [python, "-m", "sizheng", "run_scheduler"],
        }
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, cmd in procs.items():
                # Own process groups: we stop them ourselves, in order, on Ctrl-C.
                children[name] = subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603
            url = f"http://{host}:{port}/"
            self.stdout.write(self.style.SUCCESS(f"思政平台已启动：{url}  （按 Ctrl-C 停止）"))
            if settings.DEMO:
                self.stdout.write(f"演示账号（密码 {demo.DEMO_PASSWORD}）：{demo.accounts_summary()}")
            while not stopping:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name}意外退出（退出码 {proc.returncode}），正在停止其他进程。")
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _stop_all(self, children):
        for proc in children.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.stdout.write("已停止网站、任务进程和调度器。")
