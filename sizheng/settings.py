"""One env-driven settings module: SQLite by default, PostgreSQL through DATABASE_URL.

SIZHENG_MODE is ``demo`` (the default: keys are generated into ``var/``) or ``production``
(every key must come from the environment, and demo keys are refused).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from sizheng.core import keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SIZHENG_VAR_DIR", BASE_DIR / "var"))

MODE = os.environ.get("SIZHENG_MODE", "demo").strip().lower()
if MODE not in {"demo", "production"}:
    raise ImproperlyConfigured("SIZHENG_MODE 只能是 demo 或 production。")
DEMO = MODE == "demo"
TESTING = os.environ.get("SIZHENG_TESTING") == "1" or "pytest" in sys.modules


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- keys (ARCHITECTURE §5: never derive the data key from SECRET_KEY) -------------
SECRET_KEY = keys.load("SIZHENG_SECRET_KEY", VAR_DIR, demo=DEMO)
DATA_KEYS = keys.load_keyring("SIZHENG_DATA_KEY", VAR_DIR, demo=DEMO)
INDEX_KEY = keys.load("SIZHENG_INDEX_KEY", VAR_DIR, demo=DEMO)
# AES-256-GCM by default; SM4-GCM for 商用密码 deployments.
DATA_CIPHER = os.environ.get("SIZHENG_DATA_CIPHER", "aes-256-gcm").strip().lower()
if DATA_CIPHER not in {"aes-256-gcm", "sm4-gcm"}:
    raise ImproperlyConfigured("SIZHENG_DATA_CIPHER 只能是 aes-256-gcm 或 sm4-gcm。")

DEBUG = _env_bool("SIZHENG_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("SIZHENG_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEMO else "").split(",")
    if h.strip()
]
if TESTING:
    ALLOWED_HOSTS.append("testserver")

ANONYMITY_MIN_GROUP = int(os.environ.get("SIZHENG_ANONYMITY_MIN_GROUP", "5"))
if ANONYMITY_MIN_GROUP < 3:
    raise ImproperlyConfigured("SIZHENG_ANONYMITY_MIN_GROUP 不得小于 3（匿名阈值最低为 3 人）。")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "sizheng.core",
    "sizheng.org",
    "sizheng.duties",
    "sizheng.life",
    "sizheng.study",
    "sizheng.talks",
    "sizheng.care",
    "sizheng.insight",
    "sizheng.funds",
    "sizheng.team",
    "sizheng.volunteer",
    "sizheng.library",
    "sizheng.assess",
    "sizheng.dashboard",
    "sizheng.notices",
    "sizheng.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sizheng.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sizheng.core.middleware.IdleTimeoutMiddleware",
    "sizheng.core.middleware.AccountGuardMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sizheng.urls"
WSGI_APPLICATION = "sizheng.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sizheng" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "sizheng.core.context.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- database -------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "sizheng.sqlite3",
            # WAL + IMMEDIATE transactions + a busy timeout: writers queue instead of failing
            # with "database is locked"; concurrency is then guarded by compare-and-swap.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    " PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------------
# Unset: files under VAR_DIR/cache (FileBasedCache), shared by every process of the machine (web
# workers, task worker, scheduler) at no SQL query, so the dashboard values the warming job computes
# reach every web worker. Tests keep per-process memory. Several machines: SIZHENG_CACHE=db (a table in
# the shared database, created by `serve`/`createcachetable`) or a redis:// URL (needs the `redis`
# package). SIZHENG_CACHE=locmem: per process (one process only). check-deploy reports the choice.
_CACHE = os.environ.get("SIZHENG_CACHE", "").strip()
if _CACHE == "db":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "sizheng_cache"}
    }
elif _CACHE.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE}}
elif _CACHE == "locmem" or (TESTING and not _CACHE):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif _CACHE in ("", "file"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Expired files stay until read or culled; at this many a random third goes. Every write
            # lists the directory (about 4 ms at 2,000 files), so keep it modest: it is ample for the
            # dashboard's values, the analysis results, the lexicon and the API throttle counters.
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }
else:
    raise ImproperlyConfigured(
        f"SIZHENG_CACHE 的值“{_CACHE}”无法识别：请不设置（本机文件缓存），或设为 file、db、locmem、redis://…。"
    )

# --- background work -----------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
if TESTING:
    TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
    }

# --- accounts and security -----------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "sizheng.core.passwords.CharacterClassValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that also loads the roster ids scope_of needs with the user (org/backends.py).
    "sizheng.org.backends.PersonAwareBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = None  # locked until a secadmin unlocks (等保: lockout needs an administrator)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sizheng.core.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

SESSION_IDLE_TIMEOUT = int(os.environ.get("SIZHENG_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_COOKIE_AGE = 12 * 3600
# Sessions stay in the database (Django's default engine), never in the cache: with the machine's file
# cache and several web machines, a logout on one would not reach the copy cached on another. Reading a
# session by its key is one indexed lookup; that query is the price of never having to get this right.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
# TOTP is required for the three system roles in production (三员分立, 等保 2.0);
# demo mode does not enforce it so the demo accounts work out of the box.
OTP_REQUIRED_FOR_SYSTEM_ROLES = _env_bool("SIZHENG_OTP_REQUIRED", not DEMO)
OTP_TOTP_ISSUER = "思政平台"

API_TOKEN_TTL = timedelta(days=int(os.environ.get("SIZHENG_API_TOKEN_DAYS", "30")))

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEMO:
    SECURE_HSTS_SECONDS = int(os.environ.get("SIZHENG_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = _env_bool("SIZHENG_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SIZHENG_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Nonce CSP; nothing from another host, ever (intranet). htmx runs with
# includeIndicatorStyles:false so it injects no inline <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- uploads -------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("SIZHENG_MEDIA_ROOT", VAR_DIR / "media"))
# Set to nginx's internal location (e.g. "/_protected/") to let nginx send uploaded files after the
# permission check (X-Accel-Redirect, docs/deploy.md); empty: the web worker streams them itself.
MEDIA_ACCEL_REDIRECT = os.environ.get("SIZHENG_MEDIA_ACCEL_REDIRECT", "").strip()
MEDIA_URL = "/_media-not-served/"  # no route serves it: files go through permission-checked views
UPLOAD_MAX_BYTES = int(os.environ.get("SIZHENG_UPLOAD_MAX_MB", "20")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

# --- e-mail ----------------------------------------------------------------------
EMAIL_HOST = os.environ.get("SIZHENG_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("SIZHENG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SIZHENG_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SIZHENG_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("SIZHENG_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("SIZHENG_EMAIL_FROM", "sizheng@localhost")
EMAIL_ENABLED = bool(EMAIL_HOST) or TESTING
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.locmem.EmailBackend"
)

# --- i18n ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "sizheng" / "locale"]

# --- static files --------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "sizheng" / "static"]  # vendored front-end assets (static/vendor/)
STATIC_ROOT = Path(os.environ.get("SIZHENG_STATIC_ROOT", VAR_DIR / "static"))
# Uploaded files (sizheng.core.storage): the filesystem under MEDIA_ROOT by default (no "location" option,
# so the storage follows MEDIA_ROOT); SIZHENG_MEDIA_STORAGE=s3 puts them on an S3-compatible store such as
# MinIO for several web machines (docs/deploy.md §6.1; check-deploy says what is missing).
MEDIA_STORAGE = os.environ.get("SIZHENG_MEDIA_STORAGE", "").strip().lower() or "file"
if MEDIA_STORAGE not in {"file", "s3"}:
    raise ImproperlyConfigured(
        "SIZHENG_MEDIA_STORAGE 只能是 file（本机或共享文件系统）或 s3（MinIO 等对象存储）。"
    )
STORAGES = {
    "default": (
        {"BACKEND": "sizheng.core.storage.MediaStorage"}
        if MEDIA_STORAGE == "file"
        else {
            # django-storages and boto3 come with `pip install 'sizheng[s3]'`; imported only when used.
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "endpoint_url": os.environ.get("SIZHENG_S3_ENDPOINT_URL", "").strip() or None,
                "bucket_name": os.environ.get("SIZHENG_S3_BUCKET", "").strip(),
                # Secrets as the keys are read: the variable, or a file named by NAME_FILE.
                "access_key": keys.read_env_or_file("SIZHENG_S3_ACCESS_KEY"),
                "secret_key": keys.read_env_or_file("SIZHENG_S3_SECRET_KEY"),
                "region_name": os.environ.get("SIZHENG_S3_REGION", "").strip() or "us-east-1",
                "addressing_style": "path",  # MinIO: the bucket in the path, no wildcard DNS name
                "signature_version": "s3v4",
                "default_acl": None,  # objects inherit the bucket's policy, which stays private
                "querystring_auth": True,  # never an unsigned URL (downloads go through the platform anyway)
                "querystring_expire": 300,
                "file_overwrite": False,
                "max_memory_size": 5 * 1024 * 1024,  # a download larger than this is buffered on disk
                "verify": os.environ.get("SIZHENG_S3_CA_BUNDLE", "").strip() or None,  # the intranet CA
            },
        }
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise scans it at start-up

# --- logging (never T2/T3 content in a log line: log ids, not values) --------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SIZHENG_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = 500

# Lockout is per account (AXES_LOCKOUT_PARAMETERS = username): on an intranet many staff share a
# NAT address, so locking by IP would lock whole offices out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Duty warnings (蓝黄红预警), in workdays: blue within N before due; yellow due or overdue ≤ N; red beyond.
DUTY_WARNING_BLUE_DAYS = int(os.environ.get("SIZHENG_DUTY_BLUE_DAYS", "5"))
DUTY_WARNING_YELLOW_DAYS = int(os.environ.get("SIZHENG_DUTY_YELLOW_DAYS", "5"))

# Meeting kinds whose records count for compliance only once approved by the higher org
# (a rule-set switch; by default a submitted record counts).
LIFE_APPROVAL_REQUIRED = [k for k in os.environ.get("SIZHENG_LIFE_APPROVAL_REQUIRED", "").split(",") if k]

# Training hours (学时) required a year (rules.md §4): members, and secretaries / leadership members.
STUDY_HOURS_REQUIRED = int(os.environ.get("SIZHENG_STUDY_HOURS", "32"))
STUDY_HOURS_REQUIRED_LEADERS = int(os.environ.get("SIZHENG_STUDY_HOURS_LEADERS", "56"))

# Triggered talks (四必谈, BR-TALK-2): a roster event opens a "talk due" duty within N workdays.
TALK_TRIGGER_WORKDAYS = int(os.environ.get("SIZHENG_TALK_TRIGGER_WORKDAYS", "10"))

# Crisis protocol: the primary counselor must acknowledge an alert within N minutes, else it
# escalates to the backup counselor (checked by the scheduler every 5 minutes).
CRISIS_ACK_MINUTES = int(os.environ.get("SIZHENG_CRISIS_ACK_MINUTES", "120"))
# Where to get help, shown on every screening result (the national line 12356 always comes first).
WELLBEING_HOTLINE = os.environ.get("SIZHENG_WELLBEING_HOTLINE", "12356")
WELLBEING_LOCAL_CONTACTS = [
    c.strip()
    for c in os.environ.get(
        "SIZHENG_WELLBEING_CONTACTS", "市直机关心理咨询室（工作日 9:00—17:00）：机关服务中心三楼 306 室"
    ).split(";")
    if c.strip()
]
