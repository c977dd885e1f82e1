"""The demo-data framework: each app registers a generator; ``python -m sizheng demo`` runs them.

Generators run in registration order (``order``), each with the same scale and a seeded
random generator, so a given seed always yields the same demo. Only demo accounts get
passwords, and only in demo mode.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

DEMO_PASSWORD = "Sizheng@2026"

# Every demo account and what it is for, in the order the README lists them.
DEMO_ACCOUNTS = {
    "gongwei": "机关工委管理员",
    "shuji_a": "支部书记（甲）",
    "shuji_b": "支部书记（乙）",
    "dangwu_a": "党务干部",
    "dangyuan": "党员",
    "lingdao": "单位领导",
    "kaohe": "考核组",
    "zhuanjia": "专家",
    "xinli": "心理咨询员",
    "xinli2": "备岗心理咨询员",
    "gonghui": "工会",
    "sysadmin": "系统管理员",
    "secadmin": "安全管理员",
    "auditor": "安全审计员",
}


@dataclass
class DemoContext:
    """What every generator gets: scale, seed, a seeded RNG and a place to share objects."""

    scale: float
    seed: int
    rng: random.Random
    shared: dict = field(default_factory=dict)
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class Generator:
    name: str
    func: Callable[[DemoContext], None]
    order: int
    label: str


GENERATORS: dict[str, Generator] = {}


def generator(name: str, *, order: int, label: str = ""):
    """Register a demo generator for an app (``order``: core 0, org 100, duties 200 …)."""

    def wrap(func):
        GENERATORS[name] = Generator(name, func, order, label or name)
        return func

    return wrap


def run_all(*, scale: float = 1.0, seed: int = 2026, log: Callable[[str], None] = print) -> DemoContext:
    """Run every registered generator in order."""
    ctx = DemoContext(scale=scale, seed=seed, rng=random.Random(seed), log=log)  # noqa: S311 (demo data)
    for gen in sorted(GENERATORS.values(), key=lambda g: g.order):
        log(f"生成演示数据：{gen.label} …")
        # Each generator gets its own stream, so adding one app does not reshuffle another's data.
        ctx.rng = random.Random(f"{seed}:{gen.name}")  # noqa: S311 (demo data)
        gen.func(ctx)
    return ctx


@generator("core.accounts", order=0, label="系统管理账号（三员）")
def demo_system_accounts(ctx: DemoContext) -> None:
    """The three system accounts of 三员分立."""
    from sizheng.core import services
    from sizheng.core.models import RoleGrant

    for username, role, name in services.SYSTEM_ACCOUNTS:
        user = ensure_demo_user(username, display_name=name)
        services.role_grant(user=user, role=role, scope_kind=RoleGrant.ScopeKind.SYSTEM, actor=None)


def ensure_demo_user(username: str, *, display_name: str = ""):
    """A demo account with the demo password (demo mode only), created once."""
    from django.conf import settings

    from sizheng.core.models import User

    if not settings.DEMO:
        raise RuntimeError("演示账号只能在演示模式下创建。")
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": display_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def demo_exists() -> bool:
    """True once the demo has been generated (the system accounts exist)."""
    from sizheng.core.models import User

    return User.objects.filter(username="sysadmin").exists()


def accounts_summary() -> str:
    """The demo accounts that exist, as one line for the console."""
    from sizheng.core.models import User

    existing = set(User.objects.filter(username__in=DEMO_ACCOUNTS).values_list("username", flat=True))
    return " · ".join(f"{u} {label}" for u, label in DEMO_ACCOUNTS.items() if u in existing) or "（无）"
