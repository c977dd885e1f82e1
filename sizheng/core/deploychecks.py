"""Production-readiness checks: ours, as Django system checks tagged ``sizheng_deploy``.

``evaluate()`` returns one ``Finding`` per check — passed ones included, so
``python -m sizheng check-deploy`` can print 通过/警告/错误 for each with what to do.
``check_deployment`` (registered with ``deploy=True`` under the tag ``sizheng_deploy``) turns the
failed ones into Django messages, so ``python -m sizheng check --deploy --tag sizheng_deploy`` works
too once this module is imported (``CoreConfig.ready`` imports it).

``django_findings()`` runs Django's own checks with the deployment checks included and words them
in Chinese; the ones a check of ours already covers (with our rules, e.g. TLS ending at nginx with
``SECURE_PROXY_SSL_HEADER`` instead of ``SECURE_SSL_REDIRECT``, 256-bit keys shorter than Django's
50-character heuristic, HSTS preload that an intranet name cannot get) are folded into ours.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections

from sizheng.core import keys

TAG = "sizheng_deploy"
OK, WARNING, ERROR = "ok", "warning", "error"
LABELS = {OK: "通过", WARNING: "警告", ERROR: "错误"}

# Django deploy checks a check of ours covers (see the module docstring).
FOLDED_DJANGO_IDS = {
    "security.W004": "HSTS",
    "security.W008": "HTTPS",
    "security.W009": "密钥",
    "security.W025": "密钥",
    "security.W010": "Cookie",
    "security.W011": "Cookie",
    "security.W012": "Cookie",
    "security.W016": "Cookie",
    "security.W018": "调试模式",
    "security.W020": "允许的主机名",
    "security.W021": "HSTS",
}

DJANGO_IN_CHINESE = {
    "security.W001": "中间件中没有 SecurityMiddleware，HSTS、nosniff 等安全响应头不会生效。请把它放回 MIDDLEWARE 的第一位。",
    "security.W002": "中间件中没有 XFrameOptionsMiddleware，页面可能被嵌入其他网站（点击劫持）。请把它放回 MIDDLEWARE。",
    "security.W003": "中间件中没有 CsrfViewMiddleware，表单不受跨站请求伪造保护。请把它放回 MIDDLEWARE。",
    "security.W005": "HSTS 没有包含子域名（SECURE_HSTS_INCLUDE_SUBDOMAINS）。请设为 True。",
    "security.W006": "SECURE_CONTENT_TYPE_NOSNIFF 未开启。请设为 True。",
    "security.W013": "会话 Cookie 未设置 HttpOnly。请把 SESSION_COOKIE_HTTPONLY 设为 True。",
    "security.W014": "会话 Cookie 未设置 HttpOnly。请把 SESSION_COOKIE_HTTPONLY 设为 True。",
    "security.W015": "会话 Cookie 未设置 HttpOnly。请把 SESSION_COOKIE_HTTPONLY 设为 True。",
    "security.W019": "X_FRAME_OPTIONS 不是 DENY。请设为 DENY。",
    "security.W022": "没有设置 SECURE_REFERRER_POLICY，链接会把完整地址带给其他网站。请设为 same-origin。",
    "security.E023": "SECURE_REFERRER_POLICY 的取值无效。请改为 same-origin 等有效值。",
    "security.E024": "SECURE_CROSS_ORIGIN_OPENER_POLICY 的取值无效。请改为 same-origin 等有效值。",
    "security.E100": "DEFAULT_HASHING_ALGORITHM 的取值无效。",
    "security.E101": "CSRF_FAILURE_VIEW 的参数不对。",
    "security.E102": "CSRF_FAILURE_VIEW 无法导入。",
    "async.E001": "设置了环境变量 DJANGO_ALLOW_ASYNC_UNSAFE，它会关闭异步安全保护，只用于测试。请在生产环境中删除它。",
}


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``level`` is ok / warning / error; ``hint`` says what to do."""

    number: int
    title: str
    level: str
    message: str
    hint: str = ""

    @property
    def id(self) -> str:
        """Django-style id: ``sizheng.E005`` for an error, ``sizheng.W005`` otherwise."""
        return f"sizheng.{'E' if self.level == ERROR else 'W'}{self.number:03d}"

    def text(self) -> str:
        """The sentence to print after the label."""
        return f"{self.title}：{self.message}" + (f"{self.hint}" if self.hint else "")


def _workers() -> int:
    """Web worker processes configured for ``serve`` / gunicorn."""
    for name in ("SIZHENG_WEB_WORKERS", "WEB_CONCURRENCY"):
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 2  # serve's default


def _database_vendor() -> str:
    """The vendor of the default database."""
    return connections[DEFAULT_DB_ALIAS].vendor


def _abs(path) -> Path:
    """An absolute, symlink-resolved path."""
    return Path(os.path.realpath(os.path.expanduser(str(path))))


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or lies under it."""
    return path == root or root in path.parents


# --- the checks -------------------------------------------------------------------------------


def check_mode() -> Finding:
    """SIZHENG_MODE=production."""
    if getattr(settings, "DEMO", True):
        return Finding(
            1,
            "运行模式",
            ERROR,
            "当前是演示模式（SIZHENG_MODE=demo），密钥自动生成、可以生成演示数据。",
            "请设置 SIZHENG_MODE=production，并用 `python -m sizheng genkey` 生成的密钥设置 SIZHENG_SECRET_KEY、"
            "SIZHENG_DATA_KEY、SIZHENG_INDEX_KEY。",
        )
    if getattr(settings, "TESTING", False):
        return Finding(
            1,
            "运行模式",
            ERROR,
            "设置了测试标志（SIZHENG_TESTING=1）：密码只用 MD5 保存、后台任务同步执行。",
            "请从生产环境中删除 SIZHENG_TESTING。",
        )
    return Finding(1, "运行模式", OK, "生产模式（SIZHENG_MODE=production）。")


def _key_problem(value: str, name: str) -> str | None:
    """Why a text key is unfit for production, or None."""
    if not value:
        return f"{name} 为空"
    if value.startswith(keys.DEMO_PREFIX):
        return f"{name} 是演示密钥"
    if len(value) < keys.MIN_KEY_CHARS:
        return f"{name} 太短（少于 {keys.MIN_KEY_CHARS} 个字符）"
    return None


def check_secret_key() -> Finding:
    """SECRET_KEY present, not a demo key, long enough."""
    problem = _key_problem(str(getattr(settings, "SECRET_KEY", "")), "SIZHENG_SECRET_KEY")
    if problem:
        return Finding(
            2,
            "会话签名密钥",
            ERROR,
            f"{problem}。",
            "请用 `python -m sizheng genkey` 生成新密钥，设置为 SIZHENG_SECRET_KEY（或写入 SIZHENG_SECRET_KEY_FILE 指向的文件）。",
        )
    return Finding(2, "会话签名密钥", OK, "SIZHENG_SECRET_KEY 已设置，不是演示密钥。")


def check_data_key() -> Finding:
    """The data keyring is present, holds no demo key and is not SECRET_KEY."""
    ring = getattr(settings, "DATA_KEYS", None) or {}
    how = "请用 `python -m sizheng genkey --data` 生成数据密钥，设置为 SIZHENG_DATA_KEY（或 SIZHENG_DATA_KEY_FILE）。"
    if not ring:
        return Finding(3, "数据加密密钥", ERROR, "没有配置数据加密密钥。", how)
    demo = [key_id for key_id in ring if key_id.startswith(keys.DEMO_PREFIX)]
    if demo:
        return Finding(3, "数据加密密钥", ERROR, f"密钥环中有演示密钥（{'、'.join(demo)}）。", how)
    secret = str(getattr(settings, "SECRET_KEY", ""))
    secret_raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)) if _is_b64(secret) else b""
    if any(material in (secret.encode(), secret_raw) for material in ring.values()):
        return Finding(
            3,
            "数据加密密钥",
            ERROR,
            "数据加密密钥与 SECRET_KEY 相同（数据密钥绝不能由 SECRET_KEY 充当或派生）。",
            how + "然后按 README 的步骤轮换数据密钥。",
        )
    return Finding(3, "数据加密密钥", OK, f"已设置，当前密钥编号 {next(iter(ring))}，共 {len(ring)} 个密钥。")


def _is_b64(value: str) -> bool:
    """Whether a key string is urlsafe base64 (what genkey prints)."""
    try:
        base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return False
    return True


def check_index_key() -> Finding:
    """INDEX_KEY present, not demo, not SECRET_KEY."""
    value = str(getattr(settings, "INDEX_KEY", ""))
    problem = _key_problem(value, "SIZHENG_INDEX_KEY")
    if not problem and value == str(getattr(settings, "SECRET_KEY", "")):
        problem = "SIZHENG_INDEX_KEY 与 SIZHENG_SECRET_KEY 相同"
    if problem:
        return Finding(
            4,
            "盲索引密钥",
            ERROR,
            f"{problem}。",
            "请用 `python -m sizheng genkey` 生成新密钥，设置为 SIZHENG_INDEX_KEY（更换后须重新计算盲索引）。",
        )
    return Finding(4, "盲索引密钥", OK, "SIZHENG_INDEX_KEY 已设置，不是演示密钥。")


def check_debug() -> Finding:
    """DEBUG off."""
    if settings.DEBUG:
        return Finding(
            5,
            "调试模式",
            ERROR,
            "DEBUG 已开启，出错页面会显示配置和数据。",
            "请删除 SIZHENG_DEBUG 或设为 0。",
        )
    return Finding(5, "调试模式", OK, "DEBUG 已关闭。")


def check_allowed_hosts() -> Finding:
    """ALLOWED_HOSTS set and without a wildcard."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "testserver"]
    how = (
        "请把 SIZHENG_ALLOWED_HOSTS 设为用户访问本系统所用的主机名（逗号分隔），例如 sizheng.example.gov.cn。"
    )
    if not hosts:
        return Finding(6, "允许的主机名", ERROR, "ALLOWED_HOSTS 为空，所有请求都会被拒绝。", how)
    if "*" in hosts:
        return Finding(
            6,
            "允许的主机名",
            ERROR,
            "ALLOWED_HOSTS 含有 *，任何主机名都被接受（可伪造密码重置链接等）。",
            how,
        )
    return Finding(6, "允许的主机名", OK, f"{'、'.join(hosts)}。")


def check_email() -> Finding:
    """EMAIL_HOST configured, or only in-app notices."""
    if not getattr(settings, "EMAIL_HOST", ""):
        return Finding(
            7,
            "邮件通知",
            WARNING,
            "没有配置邮件服务器，通知只在站内显示。",
            "如需邮件提醒，请设置 SIZHENG_EMAIL_HOST、SIZHENG_EMAIL_PORT 和 SIZHENG_EMAIL_FROM（需要时加用户名、密码和 TLS）。",
        )
    return Finding(7, "邮件通知", OK, f"邮件服务器 {settings.EMAIL_HOST}:{settings.EMAIL_PORT}。")


def check_anonymity() -> Finding:
    """ANONYMITY_MIN_GROUP ≥ 3."""
    value = getattr(settings, "ANONYMITY_MIN_GROUP", 0)
    if value < 3:
        return Finding(
            8,
            "匿名阈值",
            ERROR,
            f"ANONYMITY_MIN_GROUP 为 {value}，小于 3 时匿名调查和心理自评的统计可能认出具体的人。",
            "请把 SIZHENG_ANONYMITY_MIN_GROUP 设为 3 或更大（默认 5）。",
        )
    return Finding(8, "匿名阈值", OK, f"少于 {value} 人的分组不显示统计结果。")


def check_https() -> Finding:
    """HTTPS enforced by Django or declared as terminated by a proxy."""
    if getattr(settings, "SECURE_SSL_REDIRECT", False):
        return Finding(9, "HTTPS", OK, "SECURE_SSL_REDIRECT 已开启，HTTP 请求会被重定向到 HTTPS。")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        header = settings.SECURE_PROXY_SSL_HEADER[0]
        return Finding(
            9,
            "HTTPS",
            OK,
            f"由反向代理终止 HTTPS（依据 {header} 请求头）；请确认 nginx 把 HTTP 重定向到 HTTPS，并总是覆盖这个请求头。",
        )
    return Finding(
        9,
        "HTTPS",
        WARNING,
        "既没有开启 SECURE_SSL_REDIRECT，也没有声明反向代理的 HTTPS 请求头。",
        "请在 nginx 上启用 HTTPS 并以生产模式运行（生产模式会信任 X-Forwarded-Proto），见 docs/deploy.md。",
    )


def check_cookies() -> Finding:
    """Session and CSRF cookies only over HTTPS."""
    missing = [
        name for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") if not getattr(settings, name, False)
    ]
    if missing:
        return Finding(
            10,
            "Cookie",
            ERROR,
            f"{'、'.join(missing)} 未开启，登录 Cookie 可能经明文 HTTP 传送而被窃取。",
            "请以生产模式运行并保持 SIZHENG_SECURE_COOKIES 为 1（默认）。",
        )
    return Finding(10, "Cookie", OK, "会话和 CSRF Cookie 只经 HTTPS 发送。")


def check_hsts() -> Finding:
    """HSTS on (preload is not required: an intranet name cannot be on the browsers' list)."""
    seconds = getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0
    if seconds <= 0:
        return Finding(
            11,
            "HSTS",
            WARNING,
            "没有开启 HSTS，浏览器仍可能先用 HTTP 访问。",
            "请以生产模式运行（默认一年），或设置 SIZHENG_HSTS_SECONDS。",
        )
    return Finding(11, "HSTS", OK, f"已开启，有效期 {seconds // 86400} 天（内网域名无需 preload）。")


def check_cache() -> Finding:
    """A cache shared by every process: the web workers, the task worker (which warms the dashboard)
    and the scheduler. Unset SIZHENG_CACHE means files under VAR_DIR/cache: shared on one machine."""
    default = settings.CACHES.get("default", {})
    backend = default.get("BACKEND", "")
    name = backend.rsplit(".", 1)[-1]
    workers = _workers()
    if backend.endswith("LocMemCache"):
        return Finding(
            12,
            "缓存",
            WARNING,
            f"使用进程内缓存（LocMemCache）：网站的 {workers} 个工作进程和任务进程各有一份，任务进程预热的驾驶舱数据、"
            "修改后的情感词表和接口限流计数在进程之间不共享。",
            "请不设置 SIZHENG_CACHE（本机文件缓存，所有进程共享）；多台机器部署时设为 db（并运行 "
            "`python -m sizheng createcachetable`）或 Redis。",
        )
    if backend.endswith("FileBasedCache"):
        location = _abs(default.get("LOCATION", ""))
        existing = next((p for p in (location, *location.parents) if p.exists()), None)
        if existing is None or not os.access(existing, os.W_OK | os.X_OK):
            return Finding(
                12,
                "缓存",
                WARNING,
                f"文件缓存目录 {location} 不可写，缓存和驾驶舱预热将不起作用。",
                "请让运行网站的系统用户对该目录（默认 $SIZHENG_VAR_DIR/cache）有写权限。",
            )
        if getattr(settings, "MEDIA_STORAGE", "file") == "s3":
            return Finding(
                12,
                "缓存",
                WARNING,
                f"上传文件放在对象存储中（多台网站机器的部署），缓存却是本机文件缓存（{location}）：每台机器各有一份，"
                "只有运行任务进程的机器上驾驶舱是预热的，修改后的情感词表和接口限流计数也不在机器之间共享。",
                "请设置 SIZHENG_CACHE=db（并运行 `python -m sizheng createcachetable`）或 Redis，见 docs/deploy.md 第 8 节。",
            )
        return Finding(
            12,
            "缓存",
            OK,
            f"FileBasedCache（{location}）：本机的 {workers} 个网站工作进程、任务进程和调度器共享；"
            "多台网站机器时请改为 SIZHENG_CACHE=db 或 Redis。",
        )
    return Finding(12, "缓存", OK, f"{name}（{workers} 个网站工作进程），所有进程和机器共享。")


def check_database() -> Finding:
    """PostgreSQL for a multi-user production system."""
    vendor = _database_vendor()
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL", "oracle": "Oracle"}
    if vendor == "postgresql":
        return Finding(13, "数据库", OK, "PostgreSQL。")
    return Finding(
        13,
        "数据库",
        WARNING,
        f"使用 {names.get(vendor, vendor)}：适合单机试用；多人同时使用的生产环境写入会排队，也不能多台机器共用。",
        "请用 DATABASE_URL 连接 PostgreSQL（15 或更新），见 docs/deploy.md。",
    )


# Where each S3 option comes from (settings.py's STORAGES block), to name what is missing.
S3_REQUIRED = {
    "endpoint_url": "SIZHENG_S3_ENDPOINT_URL",
    "bucket_name": "SIZHENG_S3_BUCKET",
    "access_key": "SIZHENG_S3_ACCESS_KEY",
    "secret_key": "SIZHENG_S3_SECRET_KEY",
}
S3_TIMEOUT = 5  # seconds: check-deploy must not hang on an unreachable endpoint


def _anonymous_statements(policy: str) -> bool:
    """Whether a bucket policy (JSON) allows anything to everyone (``mc anonymous set`` writes such a policy)."""
    import json

    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        if statement.get("Effect") == "Allow" and (aws == "*" or (isinstance(aws, list) and "*" in aws)):
            return True
    return False


def _s3_probe(options: dict) -> str | None:
    """Reach the bucket with the configured credentials; a Chinese problem, or None when it is there and private."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options.get("region_name") or "us-east-1",
        verify=options.get("verify"),
        config=Config(
            signature_version=options.get("signature_version") or "s3v4",
            s3={"addressing_style": options.get("addressing_style") or "path"},
            connect_timeout=S3_TIMEOUT,
            read_timeout=S3_TIMEOUT,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    bucket = options["bucket_name"]
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return f"存储桶 {bucket} 不存在（请先用 mc mb 创建）。"
        if status == 403:
            return f"访问密钥无权访问存储桶 {bucket}，或访问密钥、秘密密钥不对。"
        return f"访问存储桶 {bucket} 出错：{exc}。"
    except BotoCoreError as exc:
        return f"无法连接对象存储 {options['endpoint_url']}：{exc}。"
    try:
        policy = client.get_bucket_policy(Bucket=bucket)["Policy"]
    except (ClientError, BotoCoreError):
        return (
            None  # no policy (NoSuchBucketPolicy) is private; a policy we may not read is not ours to judge
        )
    if _anonymous_statements(policy):
        return f"存储桶 {bucket} 的访问策略允许匿名访问，附件可能不经权限检查就被下载（请执行 mc anonymous set none）。"
    return None


def _check_s3(options: dict) -> Finding:
    """The S3 settings are complete, private and reachable (SIZHENG_MEDIA_STORAGE=s3)."""
    title = "上传文件存储"
    missing = [env for option, env in S3_REQUIRED.items() if not options.get(option)]
    if missing:
        return Finding(
            14,
            title,
            ERROR,
            f"选择了对象存储（SIZHENG_MEDIA_STORAGE=s3），但没有设置 {'、'.join(missing)}，上传和下载都会失败。",
            "请在 /etc/sizheng/sizheng.env 中设置它们（访问密钥也可用 SIZHENG_S3_ACCESS_KEY_FILE、"
            "SIZHENG_S3_SECRET_KEY_FILE 指向 0600 的文件），见 docs/deploy.md 第 6.1 节。",
        )
    errors = []
    if options.get("default_acl") not in (None, "private"):
        errors.append(f"新上传的对象会被设为 {options['default_acl']}，附件可能被公开访问")
    if not options.get("querystring_auth", True):
        errors.append("querystring_auth 已关闭，存储生成的地址不带签名")
    if options.get("file_overwrite", True):
        errors.append("file_overwrite 已开启，同名文件会被覆盖")
    if errors:
        return Finding(
            14,
            title,
            ERROR,
            "对象存储的设置不安全：" + "；".join(errors) + "。",
            "请恢复 settings.py 中 STORAGES 的默认取值（default_acl=None、querystring_auth=True、file_overwrite=False）。",
        )
    problem = _s3_probe(options)
    if problem:
        return Finding(
            14, title, ERROR, problem, "请检查 SIZHENG_S3_* 设置和 MinIO，见 docs/deploy.md 第 6.1 节。"
        )
    where = f"S3 兼容对象存储 {options['endpoint_url']} 的存储桶 {options['bucket_name']}"
    warnings: list[tuple[str, str]] = []
    if settings.MEDIA_ACCEL_REDIRECT:
        warnings.append((
            "设置了 SIZHENG_MEDIA_ACCEL_REDIRECT，但 nginx 读不到对象存储中的附件，它不起作用，下载由网站工作进程转发",
            "请删除 SIZHENG_MEDIA_ACCEL_REDIRECT。",
        ))  # fmt: skip
    host = options["endpoint_url"].split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if options["endpoint_url"].startswith("http://") and host not in {"127.0.0.1", "localhost", "::1"}:
        warnings.append((
            "对象存储地址不是 HTTPS，附件原文在网络上明文传输",
            "请为 MinIO 配置 TLS 证书，用 https:// 地址（内网 CA 的证书用 SIZHENG_S3_CA_BUNDLE 指定）。",
        ))  # fmt: skip
    if warnings:
        return Finding(
            14,
            title,
            WARNING,
            f"上传文件存放在{where}；" + "；".join(m for m, _ in warnings) + "。",
            "".join(h for _, h in warnings),
        )
    return Finding(14, title, OK, f"上传文件存放在{where}，可以访问，且没有匿名访问策略。")


def check_media_root() -> Finding:
    """Uploads: a writable directory outside the static files, or a complete, private, reachable S3 bucket."""
    from django.core.files.storage import FileSystemStorage

    from sizheng.core.storage import configured_backend, is_s3_backend

    default = settings.STORAGES.get("default", {})
    backend = configured_backend()
    if backend is None:
        s3 = str(default.get("BACKEND", "")).startswith("storages.")
        return Finding(
            14,
            "上传文件存储",
            ERROR,
            f"无法导入上传文件的存储后端 {default.get('BACKEND')}。",
            "对象存储需要 django-storages 和 boto3：请执行 pip install 'sizheng[s3]'（离线安装包已带这些 wheel，"
            "见 docs/deploy.md 第 6.1 节）。"
            if s3
            else "请检查 settings.STORAGES。",
        )
    if is_s3_backend(backend):
        return _check_s3(default.get("OPTIONS", {}))
    if not issubclass(backend, FileSystemStorage):
        return Finding(
            14,
            "上传文件存储",
            WARNING,
            f"上传文件存放在 {default.get('BACKEND')}：平台只支持文件系统和 S3 兼容对象存储。",
            "请删除 SIZHENG_MEDIA_STORAGE，或设为 s3，见 docs/deploy.md 第 6 节。",
        )
    media = _abs(default.get("OPTIONS", {}).get("location") or settings.MEDIA_ROOT)
    static_dirs = [_abs(settings.STATIC_ROOT), *(_abs(d) for d in getattr(settings, "STATICFILES_DIRS", []))]
    for static in static_dirs:
        if _inside(media, static) or _inside(static, media):
            return Finding(
                14,
                "上传文件目录",
                ERROR,
                f"上传文件目录 {media} 与静态文件目录 {static} 重叠，上传的文件可能不经权限检查就被公开访问。",
                "请把 SIZHENG_MEDIA_ROOT 设在静态文件目录（SIZHENG_STATIC_ROOT）之外。",
            )
    existing = media
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        return Finding(
            14,
            "上传文件目录",
            ERROR,
            f"{existing} 不可写，上传会失败。",
            "请让运行网站的系统用户对 SIZHENG_MEDIA_ROOT 有写权限（建议 0700，属主为该用户）。",
        )
    return Finding(14, "上传文件目录", OK, f"{media} 可写，且在静态文件目录之外。")


def check_password_hashing() -> Finding:
    """Argon2 first (the test settings switch to MD5)."""
    first = settings.PASSWORD_HASHERS[0] if settings.PASSWORD_HASHERS else ""
    if "Argon2" not in first:
        return Finding(
            15,
            "密码保存",
            ERROR,
            f"首选的密码哈希算法是 {first.rsplit('.', 1)[-1] or '无'}，不是 Argon2。",
            "请删除 SIZHENG_TESTING，使用默认的 Argon2 配置。",
        )
    return Finding(15, "密码保存", OK, "Argon2。")


def check_otp() -> Finding:
    """TOTP required for the three system roles (三员分立, 等保 2.0)."""
    if not getattr(settings, "OTP_REQUIRED_FOR_SYSTEM_ROLES", False):
        return Finding(
            16,
            "动态验证码",
            WARNING,
            "系统管理员、安全管理员、安全审计员登录时不要求动态验证码。",
            "等保 2.0 要求双因素认证：请删除 SIZHENG_OTP_REQUIRED 或设为 1。",
        )
    return Finding(16, "动态验证码", OK, "三员账号登录必须使用动态验证码。")


def check_key_files() -> Finding:
    """Key files readable only by their owner and never under the static or media directories."""
    files = [
        Path(os.environ[f"{name}_FILE"])
        for name in ("SIZHENG_SECRET_KEY", "SIZHENG_DATA_KEY", "SIZHENG_INDEX_KEY")
        if os.environ.get(f"{name}_FILE", "").strip() and not os.environ.get(name, "").strip()
    ]
    if not files:
        return Finding(17, "密钥文件", OK, "没有使用密钥文件（SIZHENG_*_KEY_FILE）。")
    public = [_abs(settings.STATIC_ROOT), _abs(settings.MEDIA_ROOT)]
    exposed = [str(f) for f in files if any(_inside(_abs(f), root) for root in public)]
    if exposed:
        return Finding(
            17,
            "密钥文件",
            ERROR,
            f"密钥文件 {'、'.join(exposed)} 位于静态文件或上传文件目录中。",
            "请把密钥文件移到这些目录之外（例如 /etc/sizheng/，权限 0600）。",
        )
    loose = [str(f) for f in files if f.exists() and f.stat().st_mode & 0o077]
    if loose:
        return Finding(
            17,
            "密钥文件",
            WARNING,
            f"密钥文件 {'、'.join(loose)} 其他用户也能读取。",
            "请执行 chmod 600，并让属主为运行网站的系统用户。",
        )
    return Finding(17, "密钥文件", OK, "只有属主可以读取。")


CHECKS: list[Callable[[], Finding]] = [
    check_mode,
    check_secret_key,
    check_data_key,
    check_index_key,
    check_debug,
    check_allowed_hosts,
    check_email,
    check_anonymity,
    check_https,
    check_cookies,
    check_hsts,
    check_cache,
    check_database,
    check_media_root,
    check_password_hashing,
    check_otp,
    check_key_files,
]


def evaluate() -> list[Finding]:
    """Every check of ours, passed ones included, in a stable order."""
    return [check() for check in CHECKS]


@checks.register(TAG, deploy=True)
def check_deployment(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The failed findings as Django system-check messages (``check --deploy --tag sizheng_deploy``)."""
    messages: list[checks.CheckMessage] = []
    for finding in evaluate():
        if finding.level == ERROR:
            messages.append(
                checks.Error(f"{finding.title}：{finding.message}", hint=finding.hint, id=finding.id)
            )
        elif finding.level == WARNING:
            messages.append(
                checks.Warning(f"{finding.title}：{finding.message}", hint=finding.hint, id=finding.id)
            )
    return messages


def django_findings() -> list[tuple[str, str, str]]:
    """Django's own system and deployment checks as ``(level, id, Chinese sentence)``, ours left out."""
    found = []
    for message in checks.run_checks(include_deployment_checks=True):
        if message.id and (message.id.startswith("sizheng.") or message.id in FOLDED_DJANGO_IDS):
            continue
        if message.is_silenced() or message.level < checks.WARNING:
            continue
        level = ERROR if message.level >= checks.ERROR else WARNING
        text = DJANGO_IN_CHINESE.get(message.id or "")
        if text is None:
            obj = f"{message.obj}：" if message.obj not in (None, "?") else ""
            text = f"{obj}{message.msg}" + (f"（{message.hint}）" if message.hint else "")
        found.append((level, message.id or "", text))
    return found
