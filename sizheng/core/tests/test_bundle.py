"""The offline install bundle (``make bundle``) installs and runs with no network.

Slow (a few minutes: it builds every wheel, installs them into a fresh virtual environment and
starts the platform), so it runs only with ``SIZHENG_TEST_BUNDLE=1`` (CI's SQLite phase sets it).
Building needs the package index; everything after the build runs, where the machine allows it,
in a fresh network namespace that has nothing but loopback (``unshare --net``), and in any case
with pip's index disabled and every proxy pointing at a closed port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

pytestmark = pytest.mark.skipif(
    os.environ.get("SIZHENG_TEST_BUNDLE") != "1",
    reason="离线安装包测试较慢，设置 SIZHENG_TEST_BUNDLE=1 时运行（CI 的 SQLite 阶段会设置）",
)

# Runs inside the isolated namespace with the *installed* interpreter: starts `serve`, fetches the
# login page and every static file it links over loopback, stops, and prints a JSON report.
DRIVER = r"""
import json, os, re, signal, socket, subprocess, sys, time, urllib.request

prefix = sys.argv[1]
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{port}"
# Loopback directly: the environment's proxies point at a closed port on purpose.
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
log = open(os.path.join(prefix, "serve.log"), "w")
proc = subprocess.Popen(
    [os.path.join(prefix, "bin", "sizheng"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
)
report = {"port": port}
try:
    deadline = time.monotonic() + 240
    while True:
        try:
            response = urlopen(base + "/accounts/login/", timeout=10)
            break
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve did not answer: {exc!r}")
            time.sleep(0.5)
    body = response.read().decode()
    report["status"] = response.status
    report["csp"] = response.headers.get("Content-Security-Policy", "")
    report["has_login"] = "登录" in body
    report["external"] = re.findall(r'(?:src|href)="(https?://[^"]+)"', body)
    assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', body)))
    report["assets"] = {}
    for asset in assets:
        with urlopen(base + asset, timeout=10) as r:
            report["assets"][asset] = [r.status, len(r.read())]
    with urlopen(base + "/static/vendor/VERSIONS", timeout=10) as r:
        report["vendor_versions"] = r.read().decode()
    rss = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        kb = re.search(r"VmRSS:\s+(\d+)", status)
        if kb and "sizheng" in cmd and "python" in cmd:
            rss[f"{pid} {cmd.strip()[-70:]}"] = int(kb[1]) // 1024
    report["rss_mib"] = rss
finally:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    report["serve_rc"] = proc.returncode
    log.close()
    report["stopped"] = "已停止网站、任务进程和调度器" in open(os.path.join(prefix, "serve.log")).read()
    print("REPORT " + json.dumps(report, ensure_ascii=False))
"""


def _isolation() -> list[str]:
    """A fresh network (and PID) namespace when the machine allows one; else nothing."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return []
    cmd = ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--"]
    probe = subprocess.run([*cmd, "true"], capture_output=True, check=False)  # noqa: S603
    return cmd if probe.returncode == 0 else []


def _offline_env(home: Path) -> dict[str, str]:
    """A clean environment: nothing of the test run, no index, proxies that go nowhere."""
    dead = "http://127.0.0.1:9"
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "http_proxy": dead,
        "https_proxy": dead,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "no_proxy": "",
    }


def _run(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_it_builds_a_bundle_that_installs_and_serves_with_no_network(tmp_path):
    # --- build (the only step that may use the package index) --------------------------------
    dist = tmp_path / "dist"
    font_args = [] if FONT.is_file() or os.environ.get("CI") else ["--no-font"]
    started = time.monotonic()
    build = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "bundle.py"), "--out", str(dist), *font_args],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    build_seconds = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (tarball,) = dist.glob("sizheng-bundle-*.tar.gz")
    size_mib = tarball.stat().st_size / 1024 / 1024
    print(f"\n离线安装包 {tarball.name}: {size_mib:.1f} MiB, 构建 {build_seconds:.0f} 秒")

    # --- contents -----------------------------------------------------------------------------
    unpacked = tmp_path / "unpacked"
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    (bundle,) = unpacked.iterdir()
    for name in ("README-offline.txt", "install_offline.sh", "MANIFEST.json", "SHA256SUMS"):
        assert (bundle / name).is_file(), name
    assert os.access(bundle / "install_offline.sh", os.X_OK)
    manifest = json.loads((bundle / "MANIFEST.json").read_text())
    assert tuple(int(x) for x in manifest["glibc_min"].split(".")) <= (2, 28)
    sums = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=bundle, check=False)  # noqa: S607
    assert sums.returncode == 0
    (project_wheel,) = (bundle / "wheels").glob("sizheng-*.whl")
    with zipfile.ZipFile(project_wheel) as zf:
        names = set(zf.namelist())
    for vendored in ("htmx/htmx.min.js", "htmx/LICENSE", "echarts/echarts.min.js", "tabler/tabler.min.css"):
        assert f"sizheng/static/vendor/{vendored}" in names
    assert "sizheng/templates/base.html" in names
    if not font_args:
        assert (bundle / "fonts" / FONT.name).is_file()
        licence = (bundle / "fonts" / "LICENSE-OFL.txt").read_text()
        assert "SIL OPEN FONT LICENSE Version 1.1" in licence
        assert manifest["font"]["sha256"]

    # --- install with no network --------------------------------------------------------------
    isolate = _isolation()
    print(
        "隔离方式：" + ("独立网络命名空间（只有回环）" if isolate else "禁用 pip 索引并把代理指向关闭的端口")
    )
    home = tmp_path / "home"
    home.mkdir()
    env = _offline_env(home)
    prefix = tmp_path / "inst"
    python = getattr(sys, "_base_executable", sys.executable)
    started = time.monotonic()
    install = _run(
        [
            *isolate,
            str(bundle / "install_offline.sh"),
            "--prefix",
            str(prefix),
            "--python",
            python,
            "--no-font",
        ],
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    print(f"离线安装用时 {time.monotonic() - started:.0f} 秒")
    assert "安装完成" in install.stdout
    for key in ("secret", "index", "data"):
        key_file = prefix / "etc" / "keys" / f"{key}.key"
        assert key_file.stat().st_mode & 0o077 == 0, key_file
    assert (prefix / "etc" / "keys" / "data.key").read_text().count(":") == 1

    # The installed package is the one imported (not this checkout), and its static files ship.
    where = _run(
        [str(prefix / "venv" / "bin" / "python"), "-c", "import sizheng; print(sizheng.__file__)"],
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert where.stdout.strip().startswith(str(prefix / "venv")), where.stdout

    # --- run: production mode with the generated keys, loopback only --------------------------
    env_file = prefix / "etc" / "sizheng.env"
    env_file.write_text(
        env_file.read_text().replace(
            "SIZHENG_ALLOWED_HOSTS=sizheng.example.gov.cn", "SIZHENG_ALLOWED_HOSTS=127.0.0.1,localhost"
        )
    )
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    manage = str(prefix / "bin" / "sizheng")
    script = (
        ("ip link set lo up && " if isolate else "")
        + f"{manage} check && {manage} migrate --no-input -v 0 && "
        + f"exec {prefix}/venv/bin/python {driver} {prefix}"
    )
    run = _run([*isolate, "sh", "-c", script], env=env, cwd=tmp_path, timeout=900)
    line = next(x for x in run.stdout.splitlines() if x.startswith("REPORT "))
    report = json.loads(line.removeprefix("REPORT "))
    print(f"进程内存（MiB）：{report['rss_mib']}")
    assert report["status"] == 200 and report["has_login"], report
    assert "'nonce-" in report["csp"]
    assert report["external"] == []
    assert report["assets"], "登录页应引用静态文件"
    assert all(status == 200 and size > 0 for status, size in report["assets"].values()), report["assets"]
    assert "htmx" in report["vendor_versions"]
    assert report["serve_rc"] == 0 and report["stopped"], (prefix / "serve.log").read_text()[-3000:]
    assert (prefix / "var" / "sizheng.sqlite3").is_file()
