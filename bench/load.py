"""Load test on loopback: gunicorn with 2 workers under wrk, at demo scale 10, on SQLite and PostgreSQL.

For each backend it builds (or takes from ``bench/.cache/``) a demo database at the scale —
``python -m sizheng migrate`` and ``demo --scale N`` in a throw-away var dir; for PostgreSQL on a
private cluster started from Debian's binaries in a temporary directory on a free port, like
``.ci/run`` — collects static files, counts each page's SQL queries in-process (Django test client,
``CaptureQueriesContext``, signed in as ``gongwei``), starts gunicorn with 2 workers on 127.0.0.1,
signs in through the login form (CSRF token, the demo password) and runs wrk against:

- the trivial view ``/healthz`` (anonymous, no database: the baseline of the same run),
- the committee dashboard ``/dashboard/`` (its shell) and its cards (every card URL in turn),
- the people list, the duty board and the compliance heatmap,

each with 2 threads and 4 connections for ``SIZHENG_BENCH_LOAD_SECONDS`` (10) seconds — a slow page
longer, until about 100 answers, at most ``SIZHENG_BENCH_LOAD_MAX_SECONDS`` (60) — after every path
went through both workers and a 2-second wrk warm-up, and with the workers drained (idle) before
and after, so one page's backlog never lands on the next. A Lua script adds the session cookie and counts every non-200 answer (wrk itself counts only
4xx/5xx, so a redirect to the login page would otherwise look like a fast page). Each page's p99 is
divided by the trivial view's p99, and the figures are checked against the targets of issue 10:
list pages ≤ 10 queries, dashboard cards ≤ 3 queries each (their own, on a warm cache), p99 within
5× the trivial view's.

Environment: ``SIZHENG_BENCH_LOAD_SCALE`` (10), ``SIZHENG_BENCH_LOAD_SECONDS`` (10),
``SIZHENG_BENCH_LOAD_BACKENDS`` (``sqlite,postgresql``), ``SIZHENG_BENCH_LOAD_REBUILD=1`` (ignore
the cache). The cache holds one demo database per backend and scale, keyed by the latest migration
of every app (and the versions of the packages that bring migrations), so it is rebuilt only when
the schema changes; it is never served directly — each run works on a copy.

``python -m bench.load queries`` is the in-process query counter (a child process: Django is set up
there against the copy, never in the benchmark's own process).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import http.cookies
import importlib.metadata
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench import Result, log

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
SCALE = float(os.environ.get("SIZHENG_BENCH_LOAD_SCALE", "10"))
SECONDS = int(os.environ.get("SIZHENG_BENCH_LOAD_SECONDS", "10"))
BACKENDS = [
    b.strip() for b in os.environ.get("SIZHENG_BENCH_LOAD_BACKENDS", "sqlite,postgresql").split(",") if b
]
WARMUP_SECONDS = 2
# A slow page runs longer than SECONDS, until about MIN_REQUESTS answers (p99 of a handful is the max),
# but never longer than MAX_SECONDS.
MIN_REQUESTS = 100
MAX_SECONDS = int(os.environ.get("SIZHENG_BENCH_LOAD_MAX_SECONDS", "60"))
THREADS = 2
CONNECTIONS = 4
WORKERS = 2
SEED = 2026
USERNAME = "gongwei"
PASSWORD = "Sizheng@2026"  # sizheng.core.demo.DEMO_PASSWORD (only demo accounts have it, only in demo mode)

# Targets of issue 10 (§4 and the acceptance line).
PAGE_QUERIES = 10
CARD_QUERIES = 3
P99_RATIO = 5.0

# (key, URL name, label): the pages under load, in the order they run; the trivial view first.
PAGES = [
    ("healthz", "core:healthz", "trivial view"),
    ("dashboard", "dashboard:index", "dashboard"),
    ("cards", None, "dashboard cards"),
    ("people", "org:people", "people list"),
    ("duties", "duties:board", "duty board"),
    ("heatmap", "life:compliance", "compliance heatmap"),
]
# Packages whose migrations are part of the schema (with the project's own apps).
MIGRATING_PACKAGES = ("django", "django-axes", "django-otp", "django-tasks", "django-tasks-db")


# --- small helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(
    cmd: list[str], *, env: dict | None = None, what: str, cwd: Path | str = ROOT, quiet: bool = False
) -> None:
    """Run a command with its output on stderr (stdout is the table's), or only on failure when
    ``quiet``; fail with its name."""
    if quiet:
        captured = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
        if captured.returncode != 0:
            print(captured.stdout + captured.stderr, file=sys.stderr)
        code = captured.returncode
    else:
        code = subprocess.run(
            cmd, env=env, cwd=cwd, stdout=sys.stderr, stderr=sys.stderr, check=False
        ).returncode  # noqa: S603
    if code != 0:
        raise RuntimeError(f"{what}失败（退出码 {code}）：{' '.join(cmd)}")


def django_env(var: Path, database_url: str = "") -> dict[str, str]:
    """The environment of every Django process of a run: demo mode in the throw-away var dir.

    Whatever the caller's shell sets (``DATABASE_URL``, ``SIZHENG_*``) is dropped, so the project's
    own ``var/`` and databases are never touched.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIZHENG_") and k != "DATABASE_URL"}
    env.update(
        SIZHENG_VAR_DIR=str(var),
        SIZHENG_MODE="demo",
        SIZHENG_ALLOWED_HOSTS="127.0.0.1,localhost",
        SIZHENG_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="sizheng.settings",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(args: list[str], env: dict[str, str], what: str) -> None:
    sh([sys.executable, "-m", "sizheng", *args], env=env, what=what)


def copy_tree(src: Path, dst: Path) -> None:
    """``cp -a``: keeps owners and modes (a PostgreSQL data directory must stay the server's)."""
    sh(["cp", "-a", str(src), str(dst)], what="复制缓存")


# --- the cache -------------------------------------------------------------------------------------


def schema_inputs() -> dict:
    """What the demo database depends on: the latest migration of each app and the migrating packages."""
    leaves = {}
    for folder in sorted(ROOT.glob("sizheng/*/migrations")):
        names = sorted(p.stem for p in folder.glob("[0-9]*.py"))
        if names:
            leaves[folder.parent.name] = names[-1]
    versions = {}
    for package in MIGRATING_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {"migrations": leaves, "packages": versions}


def cache_dir(backend: str) -> tuple[Path, dict]:
    """This backend's cache entry at this scale and schema (``load-<backend>-s<scale>-<digest>``)."""
    inputs = {"backend": backend, "scale": SCALE, "seed": SEED, **schema_inputs()}
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return CACHE / f"load-{backend}-s{SCALE:g}-{digest}", inputs


def cache_store(entry: Path, inputs: dict, parts: dict[str, Path]) -> None:
    """Copy the built parts (``var``, ``pgdata``) into the cache, atomically; drop older entries."""
    CACHE.mkdir(parents=True, exist_ok=True)
    prefix = entry.name.rsplit("-", 1)[0] + "-"
    for old in CACHE.glob(prefix + "*"):
        shutil.rmtree(old, ignore_errors=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=CACHE))
    try:
        for name, src in parts.items():
            copy_tree(src, building / name)
        shutil.rmtree(building / "var" / "static", ignore_errors=True)  # collected again on every run
        (building / "key.json").write_text(json.dumps(inputs, indent=2, ensure_ascii=False) + "\n")
        building.rename(entry)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def cache_hit(entry: Path) -> bool:
    return (
        entry.is_dir()
        and (entry / "key.json").exists()
        and os.environ.get("SIZHENG_BENCH_LOAD_REBUILD") != "1"
    )


# --- a private PostgreSQL cluster (as .ci/run does it) ---------------------------------------------


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server bin directory that has both initdb and pg_ctl."""
    found = [
        (int(d.parent.name), d)
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").exists() and (d / "pg_ctl").exists() and d.parent.name.isdigit()
    ]
    return max(found)[1] if found else None


@dataclass
class Cluster:
    """A throw-away cluster in a temp dir on a free port; removed by :meth:`cleanup`."""

    bindir: Path
    tmp: Path = field(init=False)
    port: int = 0
    user: str = ""

    def __post_init__(self) -> None:
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root.
            try:
                pwd.getpwnam("postgres")
                self.user = "postgres"
            except KeyError:
                with contextlib.suppress(KeyError):
                    pwd.getpwnam("sizhengci")
                    self.user = "sizhengci"
                if not self.user:
                    sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "sizhengci"],
                       what="创建集群用户")  # fmt: skip
                    self.user = "sizhengci"
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.tmp = Path(tempfile.mkdtemp(prefix="sizheng-bench-pg-"))
        (self.tmp / "sock").mkdir()
        self.tmp.chmod(0o700)
        self._own(self.tmp)

    @property
    def version(self) -> str:
        return self.bindir.parent.name

    @property
    def data(self) -> Path:
        return self.tmp / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sizheng"

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            sh(["chown", "-R", self.user, str(path)], what="设置集群目录属主")

    def _as_user(self, cmd: list[str], what: str) -> None:
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        sh(cmd, what=what, cwd="/", quiet=True)

    def init(self) -> None:
        has_c_utf8 = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        locale = "--locale=C.UTF-8" if re.search(r"(?im)^c\.utf-?8$", has_c_utf8) else "--no-locale"
        self._as_user([str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                       "--encoding=UTF8", locale], "initdb")  # fmt: skip

    def restore(self, cached: Path) -> None:
        copy_tree(cached, self.data)
        self._own(self.data)

    def start(self) -> None:
        self.port = self.port or free_port()  # a restart keeps the port: DATABASE_URL names it
        options = (
            f"-p {self.port} -k {self.tmp / 'sock'} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            # No replication: little WAL, and few segments kept (the cached data dir stays small).
            " -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=256MB -c min_wal_size=32MB"
        )
        self._as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.tmp / "server.log"),
                       "-w", "-t", "60", "-o", options, "start"], "启动临时 PostgreSQL 集群")  # fmt: skip

    def createdb(self) -> None:
        sh([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "sizheng"],
           what="createdb")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                          "停止临时 PostgreSQL 集群")  # fmt: skip

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            if (self.data / "postmaster.pid").exists():
                self._as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                              "停止临时 PostgreSQL 集群")  # fmt: skip
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- gunicorn, the login, wrk ----------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(env: dict[str, str], logfile: Path):
    """gunicorn with ``WORKERS`` workers on a free loopback port; yields the base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "sizheng.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(WORKERS), "--timeout", "120", "--graceful-timeout", "5", "--no-control-socket"]  # fmt: skip
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn 启动失败（退出码 {proc.returncode}）：\n{logfile.read_text()[-3000:]}"
                )
            with contextlib.suppress(OSError):
                if get(port, "/healthz")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn 在 120 秒内没有应答 /healthz。")
            time.sleep(0.3)
        yield port
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    """One GET without following redirects: (status, Location)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        conn.close()


def login(port: int) -> str:
    """Sign in as gongwei through the login form; the Cookie header of the signed-in session."""
    jar: dict[str, str] = {}

    def keep(response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                jar[name] = morsel.value

    def cookie() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/accounts/login/")
        response = conn.getresponse()
        page = response.read().decode()
        keep(response)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or not token:
            raise RuntimeError(
                f"登录页不可用（HTTP {response.status}，CSRF 令牌{'有' if token else '缺失'}）。"
            )
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": USERNAME, "password": PASSWORD, "next": "/"}
        )
        conn.request("POST", "/accounts/login/", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie(),
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        })  # fmt: skip
        response = conn.getresponse()
        response.read()
        keep(response)
    finally:
        conn.close()
    if response.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"以 {USERNAME} 登录失败（HTTP {response.status}）：请检查演示账号和密码。")
    return cookie()


LUA = """
paths = %(paths)s
cookie = %(cookie)s
bad = 0
bad_status = 0
local i = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  i = i %% #paths + 1
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[i], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    bad_status = status
  end
end

function done(summary, latency, requests)
  local n, status = 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("bad")
    if t:get("bad_status") ~= 0 then status = t:get("bad_status") end
  end
  local e = summary.errors
  io.write(string.format(
    "sizheng %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    n, status, e.status, e.timeout, e.connect + e.read + e.write))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Load:
    """One wrk run: requests/s, p50 and p99 (seconds), and what went wrong."""

    requests: int
    rps: float
    p50: float
    p99: float
    non200: int  # counted by our Lua script: any status but 200 (redirects too)
    non200_status: int
    wrk_non2xx3xx: int  # wrk's own "Non-2xx or 3xx responses" (4xx and 5xx only)
    timeouts: int
    socket_errors: int


def warm(port: int, paths: list[str], cookie: str) -> float:
    """Every path through both workers before wrk: ``CONNECTIONS`` concurrent requests each, twice.

    With more requests in flight than workers, each worker serves each path (its templates, its
    per-process value cache); wrk's own warm-up then settles the connections. Returns the second
    round's rate (requests/s), to size the measured run.
    """
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for _ in range(2):
            started = time.perf_counter()
            for path in paths:
                list(pool.map(lambda p: get(port, p, cookie), [path] * CONNECTIONS))
            elapsed = time.perf_counter() - started
    return len(paths) * CONNECTIONS / elapsed


def drain(port: int) -> None:
    """Wait until both workers are idle: wrk stops on time, but gunicorn still answers what was sent.

    Without this, a slow page's backlog would be counted against the next page's latency.
    """
    deadline = time.monotonic() + 300
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            list(pool.map(lambda _: get(port, "/healthz"), range(CONNECTIONS)))
            if time.perf_counter() - started < 0.25:
                return


def wrk(port: int, paths: list[str], cookie: str, seconds: int, workdir: Path) -> Load:
    """wrk with ``THREADS`` threads and ``CONNECTIONS`` connections over ``paths`` in turn, ``--latency``."""
    script = workdir / "load.lua"
    lua_paths = "{" + ", ".join(lua_string(p) for p in paths) + "}"
    script.write_text(LUA % {"paths": lua_paths, "cookie": lua_string(cookie)})
    cmd = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "60s", "--latency",
           "-s", str(script), f"http://127.0.0.1:{port}{paths[0]}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    out = done.stdout
    ours = re.search(r"^sizheng (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if done.returncode != 0 or not ours:
        raise RuntimeError(f"wrk 失败（退出码 {done.returncode}）：{done.stderr.strip() or out[-2000:]}")
    requests, duration_us, p50_us, p99_us, non200, status, errors_status, timeouts, sockets = map(
        int, ours.groups()
    )
    # wrk's own lines, as a cross-check of the script's counts.
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    wrk_errors = int(non2xx.group(1)) if non2xx else 0
    if wrk_errors != errors_status:
        raise RuntimeError(f"wrk 的非 2xx/3xx 计数不一致：{wrk_errors} != {errors_status}")
    return Load(
        requests=requests,
        rps=float(rps.group(1)) if rps else requests / (duration_us / 1e6),
        p50=p50_us / 1e6,
        p99=p99_us / 1e6,
        non200=non200,
        non200_status=status,
        wrk_non2xx3xx=wrk_errors,
        timeouts=timeouts,
        socket_errors=sockets,
    )


# --- the in-process query counts (child process) ---------------------------------------------------


def count_queries() -> dict:
    """Child: each page's queries as gongwei (third request: sessions, caches and templates warm).

    Cards: the whole card request, and the card's own ``build`` + ``link`` on a fresh context with a
    warm value cache (the target: ≤ 3) and with a cold one (for the record).
    """
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from sizheng.core.models import User
    from sizheng.org.models import Org, Person

    user = User.objects.get(username=USERNAME)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def measure(path: str) -> dict:
        for _ in range(2):
            client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        n_queries = len(captured.captured_queries)  # now: every request resets the query log
        times = []
        for _ in range(3):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        return {"status": response.status_code, "location": response.get("Location", ""),
                "queries": n_queries, "server": sorted(times)[1],
                "bytes": len(response.content)}  # fmt: skip

    out: dict = {"pages": {}, "cards": [], "counts": {}}
    for key, name, _label in PAGES:
        if name is None:
            continue
        try:
            path = reverse(name)
        except NoReverseMatch:
            out["pages"][key] = {"path": "", "status": 0, "location": "", "queries": 0}
            continue
        out["pages"][key] = {"path": path, **measure(path)}
    try:
        from sizheng.dashboard import cards
    except ImportError:
        cards = None  # type: ignore[assignment]  # the dashboard is optional here
    if cards is not None:
        year = cards.context_for(user, "all").year
        for card in cards.cards_for("all"):
            url = f"{reverse('dashboard:card', args=[card.name])}?scope=all&year={year}"
            own: dict[str, int | str] = {}
            for state in ("cold", "warm"):
                if state == "cold":
                    cache.clear()
                ctx = cards.context_for(user, "all", year=year)
                try:
                    with CaptureQueriesContext(connection) as captured:
                        card.build(ctx)
                        card.link(ctx)
                    own[state] = len(captured.captured_queries)
                except Exception as exc:  # reported, not fatal: the table says which card failed
                    own[state] = -1
                    own["error"] = f"{type(exc).__name__}: {exc}"[:200]
                if state == "cold":
                    request = measure(url)  # warms the value cache for the "warm" measure
            out["cards"].append({"name": card.name, "title": card.title, "path": url, **request,
                                 "own": own.get("warm", -1), "own_cold": own.get("cold", -1),
                                 "error": own.get("error", "")})  # fmt: skip
    out["counts"] = {"orgs": Org.objects.count(), "people": Person.objects.count()}
    with contextlib.suppress(Exception):
        from sizheng.duties.models import Duty
        from sizheng.life.models import Meeting

        out["counts"].update(duties=Duty.objects.count(), meetings=Meeting.objects.count())
    return out


def queries_in_child(env: dict[str, str]) -> dict:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.load", "queries"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
        stderr=sys.stderr, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"查询计数失败（退出码 {done.returncode}）。")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- one backend -----------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    if ms < 10_000:
        return f"{ms:.0f} ms"
    return f"{seconds:.1f} s"


@dataclass
class Row:
    label: str
    path: str
    load: Load | None = None
    queries: str = ""
    query_limit: int | None = None
    query_value: int | None = None
    problem: str = ""  # why there is no load figure
    baseline: bool = False  # the trivial view: no target of its own
    notes: list[str] = field(default_factory=list)

    def verdict(self, trivial_p99: float | None) -> tuple[str, str]:
        """(p99 ratio text, targets text)."""
        missed = []
        ratio_text = "—"
        if self.load and trivial_p99:
            ratio = self.load.p99 / trivial_p99
            ratio_text = f"{ratio:.1f}×"
            if self.baseline:
                missed.append(
                    "the baseline" if ratio == 1 else "the baseline again at the end: the machine's drift"
                )
            elif ratio > P99_RATIO and not self.baseline:
                missed.append(f"p99 ratio missed by {ratio - P99_RATIO:.1f}× (target ≤ {P99_RATIO:g}×)")
        if (
            self.query_limit is not None
            and self.query_value is not None
            and self.query_value > self.query_limit
        ):
            missed.append(
                f"queries missed by {self.query_value - self.query_limit} (target ≤ {self.query_limit})"
            )
        if self.load and self.load.non200:
            missed.append(f"FAILED: {self.load.non200:,} of {self.load.requests:,} answers not 200 "
                          f"(e.g. HTTP {self.load.non200_status})")  # fmt: skip
        if self.load and (self.load.timeouts or self.load.socket_errors):
            missed.append(f"{self.load.timeouts} timeouts, {self.load.socket_errors} socket errors")
        missed += self.notes
        return ratio_text, "; ".join(missed) if missed else "targets met"

    def figures(self, trivial_p99: float | None) -> str:
        label = f"{self.label:<19}"
        if self.problem:
            return f"{label} {self.problem}"
        assert self.load is not None
        ratio, targets = self.verdict(trivial_p99)
        return (
            f"{label} {self.load.rps:>7.1f} req/s  p50 {fmt_time(self.load.p50):>8}  p99 {fmt_time(self.load.p99):>8}"
            f"  p99/trivial {ratio:>6}  {self.queries:<16}  n={self.load.requests:<6,}  {targets}"
        )


def prepare(backend: str, tmp: Path, stack: contextlib.ExitStack) -> tuple[dict[str, str], str]:
    """The demo database of this backend, from the cache or built now; the Django env and a label."""
    var = tmp / "var"
    cluster = None
    if backend == "postgresql":
        bindir = pg_bindir()
        assert bindir is not None
        cluster = Cluster(bindir)
        stack.callback(cluster.cleanup)
        label = f"postgresql{cluster.version}"
    else:
        label = "sqlite"
    entry, inputs = cache_dir(label)
    if cache_hit(entry):
        log(f"{label}：使用缓存的演示数据 {entry.relative_to(ROOT)}")
        copy_tree(entry / "var", var)
        if cluster:
            cluster.restore(entry / "pgdata")
            cluster.start()
        env = django_env(var, cluster.url if cluster else "")
    else:
        log(
            f"{label}：生成规模 {SCALE:g} 的演示数据（首次或数据库结构有变；之后使用 bench/.cache/ 中的缓存）…"
        )
        var.mkdir()
        if cluster:
            cluster.init()
            cluster.start()
            cluster.createdb()
        env = django_env(var, cluster.url if cluster else "")
        started = time.perf_counter()
        manage(["migrate", "--no-input", "-v", "0"], env, "migrate")
        manage(["demo", "--scale", f"{SCALE:g}", "--seed", str(SEED)], env, "生成演示数据")
        log(f"{label}：迁移并生成演示数据用时 {time.perf_counter() - started:.0f} 秒；写入缓存 …")
        parts = {"var": var}
        if cluster:
            cluster.stop()
            parts["pgdata"] = cluster.data
        cache_store(entry, inputs, parts)
        if cluster:
            cluster.start()
    # Pages are measured as production serves them: hashed static names from the manifest.
    manage(["collectstatic", "--no-input", "-v", "0"], env, "collectstatic")
    return env, label


def run_backend(backend: str) -> list[Result]:
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=f"sizheng-bench-load-{backend}-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        env, label = prepare(backend, tmp, stack)

        log(f"{label}：在进程内统计各页面的 SQL 查询数（以 {USERNAME} 登录）…")
        q = queries_in_child(env)
        counts = q["counts"]
        scale_text = (f"{label}, city scale {SCALE:g}: {counts['orgs']:,} orgs, {counts['people']:,} people"
                      + (f", {counts['duties']:,} duties" if "duties" in counts else ""))  # fmt: skip

        port = stack.enter_context(gunicorn(env, tmp / "gunicorn.log"))
        log(f"{label}：gunicorn（{WORKERS} 个 worker）已在 127.0.0.1:{port} 启动；登录 {USERNAME} …")
        cookie = login(port)

        rows: list[Row] = []
        for key, _name, title in PAGES:
            if key == "healthz":
                row = Row(title, "/healthz", baseline=True)
                paths, row_cookie = ["/healthz"], ""  # anonymous: no session, no query
                row.queries = "0 queries"
            elif key == "cards":
                if not q["cards"]:
                    rows.append(Row(title, "", problem="not available (no dashboard cards registered)"))
                    continue
                good = [c for c in q["cards"] if c["status"] == 200]
                row = Row(f"{title} ({len(q['cards'])})", "cards")
                paths, row_cookie = [c["path"] for c in good], cookie
                worst = max(q["cards"], key=lambda c: c["own"])
                row.query_limit, row.query_value = CARD_QUERIES, worst["own"]
                row.queries = f"≤{worst['own']} own/card"
                over = [f"{c['name']} {c['own']}" for c in q["cards"] if c["own"] > CARD_QUERIES]
                if over:
                    row.notes.append("over 3: " + ", ".join(over))
                broken = [f"{c['name']} (HTTP {c['status']}{' ' + c['error'] if c['error'] else ''})"
                          for c in q["cards"] if c["status"] != 200 or c["error"]]  # fmt: skip
                if broken:
                    row.notes.append("FAILED cards: " + ", ".join(broken))
                for c in q["cards"]:
                    log(f"  卡片 {c['name']:<24} 自身查询 {c['own']}（冷缓存 {c['own_cold']}），整个请求 {c['queries']}，"
                        f"HTTP {c['status']} {c['error']}")  # fmt: skip
                if not paths:
                    row.problem = "no card answered 200: " + ", ".join(broken)
                    rows.append(row)
                    continue
            else:
                page = q["pages"][key]
                row = Row(title, page["path"])
                if not page["path"]:
                    rows.append(Row(title, "", problem="not available (no such URL name)"))
                    continue
                row.query_limit, row.query_value = PAGE_QUERIES, page["queries"]
                row.queries = f"{page['queries']} queries"
                log(f"  页面 {title}：{page['queries']} 次查询，进程内服务器时间 {page['server'] * 1000:.0f} ms（3 次中位数），"
                    f"HTML {page['bytes'] / 1024:.0f} KB")  # fmt: skip
                paths, row_cookie = [page["path"]], cookie
            # Over HTTP too: a page that does not answer 200 is reported, not timed.
            status, location = get(port, paths[0], row_cookie)
            if status != 200:
                where = f" → {location}" if location else ""
                state = "not available" if status == 404 else "FAILED"
                row.problem = f"{state} (HTTP {status}{where} at {paths[0]})"
                rows.append(row)
                continue
            rate = warm(port, paths, row_cookie)
            seconds = min(MAX_SECONDS, max(SECONDS, math.ceil(MIN_REQUESTS / rate)))
            log(f"{label}：{row.label} — 预热 {WARMUP_SECONDS} 秒，测量 {seconds} 秒 …")
            wrk(port, paths, row_cookie, WARMUP_SECONDS, tmp)
            drain(port)
            row.load = wrk(port, paths, row_cookie, seconds, tmp)
            drain(port)
            if not row.load.requests:
                row.problem = f"FAILED: no answer within {seconds} s ({row.load.timeouts} timeouts)"
            rows.append(row)
        # The baseline once more at the end: how much the machine drifted during the run.
        again = Row("trivial view, again", "/healthz", queries="0 queries", baseline=True)
        again.load = wrk(port, ["/healthz"], "", SECONDS, tmp)
        rows.append(again)

    trivial = rows[0].load.p99 if rows and rows[0].load and rows[0].load.requests else None
    results = [Result("load", scale_text, row.figures(trivial)) for row in rows]
    for r in results:
        log(r.figures)
    return results


def run() -> list[Result]:
    """Every backend in ``SIZHENG_BENCH_LOAD_BACKENDS``; PostgreSQL skipped with a note when absent."""
    if shutil.which("wrk") is None:
        raise SystemExit("未找到 wrk：请先安装（Debian：apt-get install wrk）。")
    results: list[Result] = []
    for backend in BACKENDS:
        if backend == "postgresql" and pg_bindir() is None:
            note = "skipped: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin; apt-get install postgresql)"
            log(note)
            results.append(Result("load", "postgresql", note))
            continue
        if backend not in ("sqlite", "postgresql"):
            raise SystemExit(f"未知的数据库后端：{backend}（可用 sqlite、postgresql）。")
        results += run_backend(backend)
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["queries"]:
        print(json.dumps(count_queries(), ensure_ascii=False))
    else:
        from bench.__main__ import table

        print(table(run()))
