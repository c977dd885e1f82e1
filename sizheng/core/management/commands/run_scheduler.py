"""``python -m sizheng run_scheduler``: enqueue periodic jobs (run exactly one per installation)."""

import signal
import threading

from django.core.management.base import BaseCommand

from sizheng.core import scheduler


class Command(BaseCommand):
    help = "运行定时任务调度器：按时把到期的定时任务放入任务队列。"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=30.0, help="检查间隔（秒）")
        parser.add_argument("--once", action="store_true", help="只检查一次后退出")

    def handle(self, *args, interval, once, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"调度器已启动，已登记 {len(scheduler.JOBS)} 个定时任务。")
        while not stop.is_set():
            for name in scheduler.tick():
                self.stdout.write(f"已排队：{name}")
            if once:
                break
            stop.wait(interval)
        self.stdout.write("调度器已停止。")
