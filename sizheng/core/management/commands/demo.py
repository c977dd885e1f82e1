"""``python -m sizheng demo [--scale S] [--seed N]``: generate the demo organisation."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sizheng.core import demo


class Command(BaseCommand):
    help = "生成演示数据（仅限演示模式）。"

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="规模（1 约 3000 人，10 约 30000 人）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子；同一种子生成相同的数据")
        parser.add_argument("--if-empty", action="store_true", help="已有演示数据时什么也不做")

    def handle(self, *args, scale, seed, if_empty, **options):
        if not settings.DEMO:
            raise CommandError("生产模式下不能生成演示数据。")
        if scale <= 0:
            raise CommandError("--scale 必须大于 0。")
        if if_empty and demo.demo_exists():
            self.stdout.write("演示数据已存在，跳过。")
            return
        demo.run_all(scale=scale, seed=seed, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("演示数据已生成。"))
