"""``make bundle``: the offline install bundle for intranets (``dist/sizheng-bundle-<version>.tar.gz``).

The bundle holds everything an isolated CPython 3.11 / x86_64 Linux machine needs to install the
platform without any network:

* ``wheels/``: the project's own wheel (templates, static files and ``static/vendor`` inside it),
  a wheel of every runtime dependency pinned to the versions installed in ``.venv`` (the versions
  the test suite ran against), those of the extras in ``BUNDLED_EXTRAS`` too (``s3``: uploads on
  MinIO, which intranets run; installed on demand with ``pip install 'sizheng[s3]'``), a pip wheel to
  bootstrap the virtual environment with, and ``constraints.txt`` with those pins;
* ``fonts/``: Noto Sans CJK (SIL Open Font License 1.1) with its licence, taken from the build
  machine's Debian package ``fonts-noto-cjk``. Word reports embed charts drawn by matplotlib on the
  *server*, and Chinese labels need a CJK font there; a bare intranet server has none (the browser
  and Word on the client use their own fonts, so the font is not served to them);
* ``install_offline.sh``, ``README-offline.txt``, ``docs/deploy.md``, ``MANIFEST.json`` and
  ``SHA256SUMS``.

Building needs the package index (PyPI or a mirror from pip's configuration); installing does not.
Run with the project's virtual environment: ``.venv/bin/python scripts/bundle.py [--out dist]``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from packaging import tags
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEFAULT_FONT_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
FONT_FACE = "Noto Sans CJK SC"  # the face sizheng.core.charts prefers
# The oldest glibc the bundle supports by default: RHEL 8 / Kylin V10 / UOS 20 / Debian 10 (2.28);
# numpy, scipy and pillow have no older builds of the pinned releases.
DEFAULT_GLIBC = (2, 28)

# The one target platform (ARCHITECTURE §6; the issue: "CPython 3.11 on x86_64 Linux").
TARGET_PYTHON = (3, 11)
TARGET_MACHINE = "x86_64"
# Optional extras whose wheels ride along, so an intranet can switch them on without a network:
# ``s3`` (django-storages, boto3: uploads on MinIO, docs/deploy.md §6.1; about 17 MB of wheels, botocore
# most of it).
BUNDLED_EXTRAS = ("s3",)

# Never copied into the source tree the wheel is built from (the build writes build/ and
# *.egg-info next to the sources, so it must not run in the shared checkout).
SOURCE_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "dist",
    "build",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "staticfiles",
    "test-artifacts",
    "node_modules",
)
# Files under sizheng/ that need not be in the wheel: Python sources are checked by setuptools
# itself; the apps' design notes and the tests' fixtures are not needed at run time.
DATA_NOT_SHIPPED = re.compile(r"(^|/)(tests|__pycache__)/|(^|/)README\.md$|\.py[co]?$")
# What the platform cannot start without: checked in the built wheel by name.
REQUIRED_IN_WHEEL = (
    "sizheng/templates/base.html",
    "sizheng/static/vendor/VERSIONS",
    "sizheng/static/vendor/htmx/htmx.min.js",
    "sizheng/static/vendor/tabler/tabler.min.css",
    "sizheng/static/vendor/echarts/echarts.min.js",
    "sizheng/insight/data/lexicon.json",
)

FONT_NOTE = """\
Noto Sans CJK（思源黑体的 Google 发行版）Regular，SIL Open Font License 1.1。
来源：构建机上的 Debian 软件包 fonts-noto-cjk {deb_version}，文件 {source}（SHA-256 {sha256}）。

用途：Word 报告里的图表在服务器上由 matplotlib 绘制，中文标签需要服务器上有中文字体；
缺少时图表仍能生成，但中文显示为方框。浏览器和 Word 使用各自电脑上的字体，不需要本字体。
install_offline.sh 以 root 运行时把它装到 /usr/local/share/fonts/sizheng/（平台在该目录中查找字体）；
服务器已有 fonts-noto-cjk 时不必安装。

字体文件中的版权声明（name 表）：
{notice}

以下为 SIL Open Font License 1.1 全文（摘自 Debian 的 copyright 文件，原文件另见 debian-copyright）。
-----------------------------------------------------------------------------------------------

{licence}
"""


class BundleError(RuntimeError):
    """A build step failed; the message says what to do."""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    """Run a command; its output goes to ours, a failure stops the build."""
    result = subprocess.run(cmd, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        raise BundleError(f"命令失败（退出码 {result.returncode}）：{' '.join(cmd)}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_platform() -> None:
    """Wheels are taken for the build interpreter's platform, so it must be the target one."""
    impl = platform.python_implementation()
    machine = platform.machine()
    if impl != "CPython" or sys.version_info[:2] != TARGET_PYTHON or not sys.platform.startswith("linux"):
        raise BundleError(
            f"离线安装包面向 CPython 3.11 / Linux x86_64，当前是 {impl} {platform.python_version()} "
            f"/ {sys.platform}。请在这样的机器上用项目的虚拟环境运行（make bundle）。"
        )
    if machine != TARGET_MACHINE:
        raise BundleError(f"离线安装包面向 x86_64，当前机器是 {machine}。")


def project_meta() -> tuple[str, str, list[str]]:
    """(name, version, runtime requirements with those of ``BUNDLED_EXTRAS``) from pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    extras = project.get("optional-dependencies", {})
    missing = [e for e in BUNDLED_EXTRAS if e not in extras]
    if missing:
        raise BundleError(f"pyproject.toml 中没有可选依赖组 {'、'.join(missing)}（BUNDLED_EXTRAS）。")
    requirements = list(project.get("dependencies", []))
    requirements += [r for e in BUNDLED_EXTRAS for r in extras[e]]
    return project["name"], project["version"], requirements


def runtime_pins(requirements: list[str]) -> tuple[dict[str, str], list[str]]:
    """Pin the runtime dependency closure to the versions installed in this environment.

    Returns ({canonical name: version}, [requirements not installed here]). Extras requested
    (``psycopg[binary]``) pull in their own requirements; dev and bench extras of the project
    are never followed.
    """
    env = default_environment()
    pins: dict[str, str] = {}
    missing: list[str] = []
    queue: list[tuple[Requirement, str]] = [(Requirement(r), "") for r in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        req, extra = queue.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": extra}):
            continue
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(str(req))
            continue
        if not req.specifier.contains(dist.version, prereleases=True):
            raise BundleError(
                f"虚拟环境中的 {dist.metadata['Name']} {dist.version} 不满足 {req}；请先运行 make setup。"
            )
        pins[name] = dist.version
        for sub in dist.requires or []:
            sub_req = Requirement(sub)
            if sub_req.marker is None or sub_req.marker.evaluate({**env, "extra": ""}):
                queue.append((sub_req, ""))
            else:
                for wanted in req.extras:
                    if sub_req.marker.evaluate({**env, "extra": wanted}):
                        queue.append((sub_req, wanted))
                        break
    return pins, missing


def build_project_wheel(work: Path, wheels: Path) -> Path:
    """Build the project's wheel from a copy of the sources (the checkout stays untouched)."""
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=SOURCE_IGNORE, symlinks=False)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(src)])
    built = sorted(wheels.glob("sizheng-*.whl"))
    if len(built) != 1:
        raise BundleError(f"没有得到唯一的项目 wheel：{[p.name for p in built]}")
    check_project_wheel(built[0], src)
    return built[0]


def check_project_wheel(wheel: Path, src: Path) -> None:
    """Every template, static file and data file of the sources must be in the wheel."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = {
        p.relative_to(src).as_posix()
        for p in (src / "sizheng").rglob("*")
        if p.is_file() and not DATA_NOT_SHIPPED.search(p.relative_to(src).as_posix())
    }
    missing = sorted((expected | set(REQUIRED_IN_WHEEL)) - names)
    if missing:
        shown = "、".join(missing[:8]) + (f" 等 {len(missing)} 个文件" if len(missing) > 8 else "")
        raise BundleError(
            "项目 wheel 缺少模板、静态文件或数据文件："
            f"{shown}。请在 pyproject.toml 的 [tool.setuptools.package-data] 中加入 "
            '"*" = ["templates/**/*", "static/**/*", "data/*", "locale/**/*"]。'
        )


def fetch_dependency_wheels(project_wheel: Path, wheels: Path, constraints: Path, pip_version: str) -> None:
    """Wheels for the whole runtime closure (sdist-only packages such as jieba are built here)."""
    extras = f"[{','.join(BUNDLED_EXTRAS)}]" if BUNDLED_EXTRAS else ""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--prefer-binary",
            "--wheel-dir",
            str(wheels),
            "--constraint",
            str(constraints),
            # The project with its bundled extras, from the wheel just built (a PEP 508 direct reference).
            f"sizheng{extras} @ {project_wheel.resolve().as_uri()}",
            f"pip=={pip_version}",
        ]
    )


def _target_platforms() -> dict[str, tuple[int, int] | None]:
    """Platform tags an x86_64 Linux machine may accept, with the glibc each needs (None: any)."""
    platforms: dict[str, tuple[int, int] | None] = {
        "manylinux1_x86_64": (2, 5),
        "manylinux2010_x86_64": (2, 12),
        "manylinux2014_x86_64": (2, 17),
        "linux_x86_64": None,  # built on this machine: fine here, glibc of the build host
    }
    platforms.update({f"manylinux_2_{minor}_x86_64": (2, minor) for minor in range(5, 64)})
    return platforms


def wheel_glibc(name: str) -> tuple[int, int] | None:
    """The oldest glibc a manylinux wheel accepts (None for pure and locally built wheels)."""
    platforms = _target_platforms()
    needs = [platforms[t.platform] for t in parse_wheel_filename(name)[3] if platforms.get(t.platform)]
    return min(needs) if needs else None  # type: ignore[type-var]


def lower_glibc(wheels: Path, glibc: tuple[int, int]) -> list[str]:
    """Swap each wheel that needs a newer glibc than ``glibc`` for the same release built for it.

    pip picks the newest manylinux build the *build* machine accepts (Debian 12: glibc 2.36), but
    the intranet server may be older (RHEL 8, Kylin V10, UOS 20: glibc 2.28).
    """
    allowed = [f"manylinux_{glibc[0]}_{minor}_x86_64" for minor in range(glibc[1], 16, -1)]
    allowed += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    swapped: list[str] = []
    for path in sorted(wheels.glob("*.whl")):
        needs = wheel_glibc(path.name)
        if needs is None or needs <= glibc:
            continue
        name, version, _, _ = parse_wheel_filename(path.name)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            cmd += [f"--platform={p}" for p in allowed]
            cmd += ["--python-version=3.11", "--implementation=cp", "--abi=cp311", "--abi=abi3", "--abi=none"]
            result = subprocess.run([*cmd, "--dest", tmp, f"{name}=={version}"], check=False)  # noqa: S603
            found = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or len(found) != 1:
                raise BundleError(
                    f"{name} {version} 没有适用于 glibc {glibc[0]}.{glibc[1]} 的 wheel；"
                    "请用 --glibc 指定目标服务器的 glibc 版本（ldd --version 查看）。"
                )
            path.unlink()
            shutil.move(str(found[0]), wheels / found[0].name)
            swapped.append(f"{path.name} → {found[0].name}")
    return swapped


def platform_report(wheels: Path) -> dict:
    """Check every wheel fits CPython 3.11 on x86_64 Linux; return the glibc the set needs."""
    platforms = _target_platforms()
    supported = set(
        tags.cpython_tags(TARGET_PYTHON, abis=["cp311", "abi3", "none"], platforms=list(platforms))
    ) | set(tags.compatible_tags(TARGET_PYTHON, interpreter="cp311", platforms=list(platforms)))
    glibc_needed = (2, 5)
    local_builds: list[str] = []
    problems: list[str] = []
    for path in sorted(wheels.glob("*.whl")):
        fitting = supported & set(parse_wheel_filename(path.name)[3])
        if not fitting:
            problems.append(path.name)
            continue
        if any(t.platform == "any" for t in fitting):
            continue
        needs = [platforms[t.platform] for t in fitting if platforms[t.platform] is not None]
        if needs:
            glibc_needed = max(glibc_needed, min(needs))  # type: ignore[type-var]
        else:
            local_builds.append(path.name)
    if problems:
        raise BundleError(f"这些 wheel 不适用于 CPython 3.11 / x86_64 Linux：{'、'.join(problems)}")
    return {"glibc": f"{glibc_needed[0]}.{glibc_needed[1]}", "local_builds": local_builds}


def font_licence_text(copyright_file: Path) -> str:
    """The SIL OFL 1.1 paragraph of a Debian copyright file, unfolded."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    # The stand-alone "License: SIL-1.1" paragraph (the one followed by indented text), not the
    # "Files:" stanza's reference to it.
    for i, line in enumerate(lines[:-1]):
        if line.strip() == "License: SIL-1.1" and lines[i + 1].startswith(" "):
            body = []
            for text in lines[i + 1 :]:
                if not text.startswith(" "):
                    break
                body.append("" if text.strip() == "." else text[1:])
            text = "\n".join(body).strip()
            if "SIL OPEN FONT LICENSE" in text:
                return text + "\n"
    raise BundleError(f"{copyright_file} 中没有 SIL Open Font License 1.1 的全文。")


def add_font(font: Path, copyright_file: Path, dest: Path) -> dict:
    """Copy the font with its licence; check it holds the Simplified-Chinese face charts prefer."""
    from fontTools.ttLib import TTCollection, TTFont

    if not font.is_file():
        raise BundleError(
            f"未找到中文字体 {font}。请先安装 fonts-noto-cjk（apt-get install fonts-noto-cjk），"
            "或用 --font 指定 OFL 字体文件，或加 --no-font 生成不带字体的安装包。"
        )
    if not copyright_file.is_file():
        raise BundleError(f"未找到字体的许可证文件 {copyright_file}；请用 --font-copyright 指定。")
    faces = (
        TTCollection(str(font), lazy=True).fonts if font.suffix == ".ttc" else [TTFont(str(font), lazy=True)]
    )
    names = [f["name"].getDebugName(1) for f in faces]
    if FONT_FACE not in names:
        raise BundleError(f"{font} 中没有 {FONT_FACE}（只有 {'、'.join(filter(None, names))}）。")
    notice = faces[0]["name"].getDebugName(0) or ""
    licence_url = faces[0]["name"].getDebugName(13) or ""
    dest.mkdir(parents=True)
    shutil.copy2(font, dest / font.name)
    shutil.copy2(copyright_file, dest / "debian-copyright")
    deb_version = subprocess.run(  # noqa: S603
        ["dpkg-query", "-W", "-f", "${Version}", "fonts-noto-cjk"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    digest = sha256_of(font)
    (dest / "LICENSE-OFL.txt").write_text(
        FONT_NOTE.format(
            deb_version=deb_version or "（版本未知）",
            source=font,
            sha256=digest,
            notice=f"{notice}\n{licence_url}".strip(),
            licence=font_licence_text(copyright_file),
        ),
        encoding="utf-8",
    )
    return {"file": font.name, "sha256": digest, "faces": names, "debian_package": deb_version}


README = """\
思政平台 Sizheng {version} 离线安装包
======================================

本安装包用于不能连接互联网的政务内网服务器。安装时不访问任何网络（pip 以 --no-index 运行，
只从本包的 wheels/ 目录安装）。

适用平台
--------
- CPython 3.11（必须是 3.11：二进制 wheel 为 cp311 构建），Linux x86_64，glibc ≥ {glibc}；
- 不需要 python3-venv / ensurepip：install_offline.sh 用本包里的 pip wheel 初始化虚拟环境；
- 数据库：SQLite（内置，无需安装）或 PostgreSQL 15 及以上（psycopg 二进制包已含连接库；
  备份命令另需操作系统的 postgresql-client 提供 pg_dump，版本不低于数据库服务器）。

内容
----
wheels/              平台 sizheng {version} 及其全部运行依赖（{wheel_count} 个 wheel），constraints.txt 为锁定版本；
                     另含上传文件放在 MinIO 等对象存储时所需的 django-storages、boto3（默认不安装，见下）
fonts/               {font_line}
install_offline.sh   创建虚拟环境并离线安装
docs/deploy.md       部署说明（单机、多机、PostgreSQL、gunicorn、systemd、nginx、密钥、升级、备份、监控）
MANIFEST.json        构建信息、每个 wheel 的 SHA-256、字体来源
SHA256SUMS           校验和：sha256sum -c SHA256SUMS

安装
----
1. 校验：    sha256sum -c SHA256SUMS
2. 安装：    sudo ./install_offline.sh
             系统安装：程序 /opt/sizheng/venv，配置 /etc/sizheng/sizheng.env，密钥 /etc/sizheng/keys/，
             数据 /var/lib/sizheng，系统用户 sizheng，中文字体 /usr/local/share/fonts/sizheng/
             ./install_offline.sh --prefix ~/sizheng          （无 root 权限时，全部装在一个目录下）
   选项：    --prefix 目录   --python /usr/bin/python3.11   --no-font
   首次安装时自动生成三个密钥（secret、index、data），已有的密钥和配置文件绝不覆盖。
   请立即把密钥目录离线保存两份：丢失数据密钥，加密数据无法恢复；密钥绝不放进备份。
3. 编辑 /etc/sizheng/sizheng.env：至少 SIZHENG_ALLOWED_HOSTS；PostgreSQL 时设置 DATABASE_URL。
   上传文件放在 MinIO（S3 兼容对象存储）时，先从本包离线安装对象存储支持，再按 docs/deploy.md 第 6.1 节设置：
             sudo /opt/sizheng/venv/bin/python -m pip install --no-index --find-links wheels \\
                  --constraint wheels/constraints.txt 'sizheng[s3]=={version}'
4. 初始化：  /opt/sizheng/bin/sizheng 即带本安装配置的 python -m sizheng（root 运行时切换为用户 sizheng）
             /opt/sizheng/bin/sizheng migrate
             /opt/sizheng/bin/sizheng createcachetable
             /opt/sizheng/bin/sizheng collectstatic --no-input
             /opt/sizheng/bin/sizheng check-deploy
             /opt/sizheng/bin/sizheng create_system_accounts
5. 运行：按 docs/deploy.md 安装 systemd 服务（网站 gunicorn、任务进程 db_worker、调度器 run_scheduler，
   调度器全系统只运行一个）和 nginx（HTTPS）。试运行：/opt/sizheng/bin/sizheng serve

升级
----
停服务 → 备份（/opt/sizheng/bin/sizheng backup）→ 用新版本安装包运行 install_offline.sh（同样的选项）
→ migrate → collectstatic → 重启服务。详见 docs/deploy.md “升级”。

构建信息：{built} 在 {builder} 上构建，Python {python}，构建用时 {seconds} 秒。
"""


def write_tar(tree: Path, out: Path, epoch: int) -> None:
    """A gzip'd tar of ``tree`` with sorted entries, root ownership and one timestamp."""

    def norm(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = epoch
        if info.isdir() or info.mode & 0o100:
            info.mode = 0o755
        else:
            info.mode = 0o644
        return info

    with (
        open(out, "wb") as fh,
        gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=epoch) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in [tree, *sorted(tree.rglob("*"))]:
            arcname = (Path(tree.name) / path.relative_to(tree)).as_posix()
            tar.add(path, arcname=arcname, recursive=False, filter=norm)


def build(
    out_dir: Path,
    *,
    font: Path | None,
    font_copyright: Path,
    glibc: tuple[int, int] = DEFAULT_GLIBC,
    keep_tree: bool = False,
) -> Path:
    """Build the bundle into ``out_dir``; returns the tarball's path."""
    started = time.monotonic()
    check_platform()
    name, version, requirements = project_meta()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sizheng-bundle-"))
    try:
        tree = work / f"sizheng-bundle-{version}"
        wheels = tree / "wheels"
        wheels.mkdir(parents=True)

        log("构建项目 wheel（从源代码副本）")
        project_wheel = build_project_wheel(work, wheels)

        log("锁定运行依赖的版本（取自当前虚拟环境，即测试所用版本）")
        pins, missing = runtime_pins(requirements)
        if missing:
            print(f"    注意：虚拟环境中没有 {'、'.join(missing)}，将由 pip 选择版本。", flush=True)
        pip_version = metadata.version("pip")
        constraints = wheels / "constraints.txt"
        constraints.write_text(
            "# 离线安装包的锁定版本（运行依赖），由 scripts/bundle.py 生成。\n"
            + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items()))
            + f"{name}=={version}\npip=={pip_version}\n"
        )

        log(f"下载或构建 {len(pins)} 个运行依赖的 wheel")
        fetch_dependency_wheels(project_wheel, wheels, constraints, pip_version)
        for line in lower_glibc(wheels, glibc):
            print(f"    换用较低 glibc 的构建：{line}", flush=True)
        report = platform_report(wheels)
        present = {canonicalize_name(parse_wheel_filename(p.name)[0]) for p in wheels.glob("*.whl")}
        absent = sorted(set(pins) - present)
        if absent:
            raise BundleError(f"缺少这些依赖的 wheel：{'、'.join(absent)}")

        font_info = None
        if font is not None:
            log(f"加入中文字体 {font.name}（SIL OFL 1.1）及其许可证")
            font_info = add_font(font, font_copyright, tree / "fonts")

        shutil.copy2(ROOT / "scripts" / "install_offline.sh", tree / "install_offline.sh")
        (tree / "install_offline.sh").chmod(0o755)
        deploy_doc = ROOT / "docs" / "deploy.md"
        if deploy_doc.is_file():
            (tree / "docs").mkdir()
            shutil.copy2(deploy_doc, tree / "docs" / "deploy.md")

        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
        built = datetime.fromtimestamp(epoch, UTC)
        wheel_files = sorted(wheels.glob("*.whl"))
        manifest = {
            "name": name,
            "version": version,
            "built": built.isoformat(timespec="seconds"),
            "python": "cp311",
            "platform": "linux_x86_64",
            "glibc_min": report["glibc"],
            "locally_built_binary_wheels": report["local_builds"],
            "project_wheel": project_wheel.name,
            "wheels": {p.name: sha256_of(p) for p in wheel_files},
            "font": font_info,
        }
        (tree / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        font_line = (
            f"{font_info['file']}（Noto Sans CJK，SIL OFL 1.1）及许可证 LICENSE-OFL.txt"
            if font_info
            else "（本包未带中文字体：服务器需自备 fonts-noto-cjk，否则 Word 报告图表中的中文显示为方框）"
        )
        (tree / "README-offline.txt").write_text(
            README.format(
                version=version,
                glibc=report["glibc"],
                wheel_count=len(wheel_files),
                font_line=font_line,
                built=built.strftime("%Y-%m-%d %H:%M UTC"),
                builder=platform.node() or "构建机",
                python=platform.python_version(),
                seconds=round(time.monotonic() - started),
            ),
            encoding="utf-8",
        )
        sums = [
            f"{sha256_of(p)}  {p.relative_to(tree).as_posix()}\n"
            for p in sorted(tree.rglob("*"))
            if p.is_file() and p.name != "SHA256SUMS"
        ]
        (tree / "SHA256SUMS").write_text("".join(sums))

        log("打包")
        target = out_dir / f"{tree.name}.tar.gz"
        partial = target.with_suffix(".gz.part")
        write_tar(tree, partial, epoch)
        partial.replace(target)
        if keep_tree:
            kept = out_dir / tree.name
            shutil.rmtree(kept, ignore_errors=True)
            shutil.move(str(tree), kept)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    size = target.stat().st_size
    print(
        f"离线安装包：{target}（{size / 1024 / 1024:.1f} MiB，{len(wheel_files)} 个 wheel，"
        f"需要 glibc ≥ {report['glibc']}，用时 {seconds:.0f} 秒）",
        flush=True,
    )
    if report["local_builds"]:
        print(f"    注意：这些二进制 wheel 是本机编译的：{'、'.join(report['local_builds'])}", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成离线安装包 dist/sizheng-bundle-<版本>.tar.gz。")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="输出目录（默认 dist/）")
    parser.add_argument("--font", type=Path, default=DEFAULT_FONT, help="OFL 中文字体文件")
    parser.add_argument(
        "--font-copyright", type=Path, default=DEFAULT_FONT_COPYRIGHT, help="字体的许可证文件"
    )
    parser.add_argument("--no-font", action="store_true", help="不带中文字体")
    parser.add_argument(
        "--glibc", default="{}.{}".format(*DEFAULT_GLIBC), help="目标服务器最低的 glibc 版本（默认 2.28）"
    )
    parser.add_argument("--keep-tree", action="store_true", help="同时在输出目录保留解开的目录")
    options = parser.parse_args(argv)
    match = re.fullmatch(r"2\.(\d+)", options.glibc)
    if not match or not 17 <= int(match[1]) <= 63:
        parser.error("--glibc 应形如 2.28（2.17 到 2.63 之间）")
    try:
        build(
            options.out,
            font=None if options.no_font else options.font,
            font_copyright=options.font_copyright,
            glibc=(2, int(match[1])),
            keep_tree=options.keep_tree,
        )
    except BundleError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
