"""``python -m sizheng create_system_accounts``: the three 三员 accounts of a new installation."""

from django.core.management.base import BaseCommand

from sizheng.core import services


class Command(BaseCommand):
    help = (
        "创建系统管理员、安全管理员、安全审计员三个账号（三员分立）；已存在的账号不变。初始密码只显示这一次。"
    )

    def handle(self, *args, **options):
        created = services.system_accounts_create()
        if not created:
            self.stdout.write("三员账号均已存在，未做任何更改。")
            return
        for username, _role, password in created:
            self.stdout.write(f"{username}\t初始密码：{password}")
        self.stdout.write("请把初始密码分别当面交给三位管理员；首次登录时必须修改密码并绑定动态验证码。")
